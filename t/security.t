# security.t: hostile input and hostile applications, one named test per
# attack, each checked on the wire (raw sockets: LWP would normalise what
# matters here) and, where it says "the app did not run", through the
# marker line t/htdocs/security/app.wsgi writes to the error_log before
# anything else.  The mod_wsgi CVEs are at the end, each with what it was.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use IO::Select ();
use Socket qw(SHUT_WR);
use Time::HiRes ();
use Encode ();
use WSLTest qw(t_ok safe raw_request raw_connect parse_response log_during
    test_port decode_json_body diag);
use WSLServer ();

plan tests => 183, need_module 'mod_wsgi_lite.c';

Apache::TestRequest::module('default');
my $port = test_port();
our $HOST = "Host: localhost:$port\r\n";

# A request's bytes: request line, Host, the given header lines, close.
sub req {
    my ($method, $uri, $headers, $body) = @_;
    return "$method $uri HTTP/1.1\r\n$HOST" . ($headers // '')
        . "Connection: close\r\n\r\n" . ($body // '');
}

# How many times the app ran for `tag` (its marker lines in @log).
sub ran {
    my ($tag, @log) = @_;
    return scalar grep /wsl-sec-ran case=\S* tag=\Q$tag\E\b/, @log;
}

# Send raw bytes; return the parsed response and the error_log lines.
sub exchange {
    my ($bytes, %opt) = @_;
    my $res;
    my @log = log_during(sub { $res = raw_request($bytes, %opt) },
                         settle => 0);
    return ($res, @log);
}

sub env_of { decode_json_body($_[0], $_[1]) }

# --- response splitting: CR, LF, NUL in the status line or a header ------------
# The app's status/headers are validated before Apache sees them: a 500,
# one logged error, and nothing the app tried to inject on the wire.
my @bad_responses = (
    (map { ["response splitting: $_->[1] in the status line", "status&k=$_->[0]"] }
        ['crlf', 'CRLF'], ['lf', 'LF'], ['cr', 'CR'], ['nul', 'NUL'],
        ['crlfcrlf', 'CRLFCRLF + body']),
    (map { ["response splitting: $_->[1]", "header&k=$_->[0]"] }
        ['value_crlf', 'CRLF in a header value'],
        ['value_lf', 'LF in a header value'],
        ['value_cr', 'CR in a header value'],
        ['value_nul', 'NUL in a header value'],
        ['value_crlfcrlf', 'CRLFCRLF + body in a header value'],
        ['ctype_crlf', 'CRLF in Content-Type'],
        ['clen_crlf', 'CRLF in Content-Length'],
        ['location_crlf', 'CRLF in Location'],
        ['cookie_lf', 'LF in Set-Cookie'],
        ['name_crlf', 'CRLF in a header name']),
    (map { ["header name with $_->[1] is rejected", "header&k=$_->[0]"] }
        ['name_space', 'a space'], ['name_colon', 'a trailing colon'],
        ['name_inner_colon', 'a colon and CRLF inside'],
        ['name_tab', 'a tab'], ['name_empty', 'nothing (empty)'],
        ['name_leading_space', 'a leading space'], ['name_nul', 'a NUL'],
        ['name_del', 'a DEL']),
    # PEP 3333 "Other HTTP Features": hop-by-hop headers belong to the
    # server; an app that sets one is refused (as wsgiref does).
    (map { ["hop-by-hop header $_->[1] set by the app is rejected", "header&k=$_->[0]"] }
        ['hop_connection', 'Connection'], ['hop_keep_alive', 'Keep-Alive'],
        ['hop_transfer_encoding', 'Transfer-Encoding'],
        ['hop_upgrade', 'Upgrade'], ['hop_te', 'TE'],
        ['hop_trailer', 'Trailer'], ['hop_trailers', 'Trailers'],
        ['hop_proxy_authenticate', 'Proxy-Authenticate'],
        ['hop_proxy_authorization', 'Proxy-Authorization'],
        ['hop_proxy_connection', 'Proxy-Connection'],
        ['hop_mixed_case', 'cOnNeCtIoN (any case)']),
);
my $n = 0;
for my $case (@bad_responses) {
    my ($name, $query) = @$case;
    my $tag = 'resp' . $n++;
    my ($res, @log) = exchange(req('GET', "/security/app?case=$query&tag=$tag"));
    my @wsl = grep /\[wsgi_lite:error\].*WSL\d+:.*\/security\/app/, @log;
    ok t_ok(($res->{status} // 0) == 500 && ran($tag, @log) == 1
            && !grep(/^X-Injected/im || /should not be sent|injected body/,
                     $res->{raw})
            && !grep(/^(?:Keep-Alive|Upgrade|TE|Trailers?|Proxy-\S+):/im
                     || /^Connection: (?!close\r?$)/im
                     || /^Transfer-Encoding:/im, $res->{head_raw} // '')
            && @wsl == 1, $name)
        or diag("status $res->{status}, WSL entries: " . scalar(@wsl)
                . "\n$res->{raw}");
}

# `Connection: close` is the one hop-by-hop header an app may give
# (Mercurial's hgweb does): Apache closes the connection after the
# response and writes the header itself, once.  Two pipelined requests:
# the second is answered only when the first did not ask to close.
my $host = "Host: " . Apache::TestRequest::hostport() . "\r\n";
for my $case (['/errors/header.wsgi?connection_close', 1],
              ['/hello', 0]) {
    my ($path, $closes) = @$case;
    my $r = raw_request("GET $path HTTP/1.1\r\n$host\r\n"
                        . "GET /hello HTTP/1.1\r\n${host}Connection: close\r\n\r\n",
                        timeout => 20);
    my $answers = () = $r->{raw} =~ m{HTTP/1\.1 \d{3} }g;
    if ($closes) {
        ok t_ok(($r->{status} // 0) == 200 && $r->{body} eq 'sent'
                && join('|', @{ $r->{h}{connection} || [] }) eq 'close'
                && $answers == 1,
                'an app\'s Connection: close is honoured: 200, one Connection: close '
                . 'header, and the connection ends after the response')
            or diag($r->{raw});
    }
    else {
        ok t_cmp($answers, 2, '(control) without it, the pipelined second '
                 . 'request is answered on the same connection')
            or diag($r->{raw});
    }
}

# --- request headers: underscores, httpoxy ------------------------------------------
# "X_Forwarded_For" would become HTTP_X_FORWARDED_FOR like the real
# "X-Forwarded-For" (CGI maps both '-' and '_' to '_'); it is dropped.
my ($res, @log) = exchange(req('GET', '/security/app?case=env&tag=us1',
    "X_Forwarded_For: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\n"
    . "Content_Length: 666\r\nContent_Type: spoof/6.6.6.6\r\n"
    . "X-Custom_Header: 6.6.6.6\r\nX.Dotted: 6.6.6.6\r\n"));
my $e = env_of($res, 'underscore spoof');
# Values the spoofed headers carried, exactly: a number in the environ
# (a port, a timestamp, a request id) may contain "666" by chance.
ok t_ok($res->{status} == 200
        && !grep({ defined $e->{$_} && ($e->{$_} =~ /6\.6\.6\.6/ || $e->{$_} eq '666') } keys %$e),
        'underscore spoofing: X_Forwarded_For, X_Real_IP, Content_Length, '
        . 'Content_Type, X-Custom_Header, X.Dotted are dropped from environ');
($res, @log) = exchange(req('GET', '/security/app?case=env&tag=us2',
    "X_Forwarded_For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.5\r\n"
    . "X_Forwarded_For: 6.6.6.7\r\n"));
$e = env_of($res, 'underscore beside dash');
ok t_cmp($e->{HTTP_X_FORWARDED_FOR}, '203.0.113.5',
         'underscore spoofing: beside a real X-Forwarded-For only the real one reaches the app');
ok t_cmp($e->{REMOTE_ADDR}, '127.0.0.1',
         'underscore spoofing: REMOTE_ADDR is the real peer');
($res, @log) = exchange(req('GET', '/security/app?case=env&tag=poxy',
    "Proxy: http://6.6.6.6:8080/\r\n"));
$e = env_of($res, 'httpoxy');
ok t_ok($res->{status} == 200 && !exists $e->{HTTP_PROXY},
        'httpoxy: a Proxy request header never becomes HTTP_PROXY');

# Request header names with a space (before the colon too), values with a
# bare CR or NUL, bare LF line ends: Apache refuses them (400) before any
# handler runs.  (A colon in a request header name cannot exist: the first
# colon ends the name.)
for (['a space in the name', "X Injected: 1\r\n"],
     ['a space before the colon', "X-Injected : 1\r\n"],
     ['a bare CR in the value', "X-A: a\rX-Injected: 1\r\n"],
     ['a NUL in the value', "X-A: a\0X-Injected: 1\r\n"],
     ['a bare LF line ending', "X-A: a\nX-Injected: 1\r\n"]) {
    my ($what, $line) = @$_;
    my $tag = 'reqname' . $n++;
    ($res, @log) = exchange(req('GET', "/security/app?case=env&tag=$tag", $line));
    $e = $res->{status} == 200 ? env_of($res, $what) : {};
    ok t_ok(($res->{status} == 400 && ran($tag, @log) == 0)
            || ($res->{status} == 200 && !grep(/^HTTP_X_INJECTED$|^HTTP_X_A$/, keys %$e)
                && !grep({ defined $e->{$_} && $e->{$_} =~ /[\r\0]|Injected/ } keys %$e)),
            "request header with $what: refused (400) or never in environ")
        or diag("status $res->{status}");
}

# --- trusted-proxy headers from an untrusted peer ----------------------------------
my @proxy_headers = (
    'X-Forwarded-For' => '6.6.6.1', 'X-Client-IP' => '6.6.6.2',
    'X-Real-IP' => '6.6.6.3', 'X-Forwarded-Proto' => 'https',
    'X-Forwarded-Scheme' => 'https', 'X-Forwarded-SSL' => 'on',
    'X-Forwarded-HTTPS' => 'on', 'X-Forwarded-Host' => 'evil.example',
    'X-Forwarded-Server' => 'evil.example', 'X-Forwarded-Port' => '6666',
    'X-Script-Name' => '/evil');
my $proxy_lines = '';
for (my $i = 0; $i < @proxy_headers; $i += 2) {
    $proxy_lines .= "$proxy_headers[$i]: $proxy_headers[$i + 1]\r\n";
}
($res, @log) = exchange(req('GET', '/security/untrusted_peer?case=env&tag=up', $proxy_lines));
$e = env_of($res, 'untrusted peer');
my @left = sort grep /^HTTP_X_(?:FORWARDED|CLIENT|REAL|SCRIPT)/, keys %$e;
ok t_cmp("@left", '',
         'trusted-proxy headers from an untrusted peer: all removed from environ');
ok t_cmp(join(' ', map { $e->{$_} // 'undef' }
                  qw(REMOTE_ADDR wsgi.url_scheme HTTP_HOST SERVER_NAME SERVER_PORT SCRIPT_NAME)),
         "127.0.0.1 http localhost:$port localhost $port /security/untrusted_peer",
         'trusted-proxy headers from an untrusted peer: REMOTE_ADDR, scheme, host, '
         . 'port and SCRIPT_NAME are the real ones');

# --- Authorization ------------------------------------------------------------------
my $auth = "Authorization: Basic d3NsOnNlY3JldA==\r\nProxy-Authorization: Basic cHJveHk6c2VjcmV0\r\n";
for my $where (qw(auth_default auth_off)) {
    ($res, @log) = exchange(req('GET', "/security/$where?case=env&tag=$where", $auth));
    $e = env_of($res, $where);
    ok t_ok($res->{status} == 200 && !exists $e->{HTTP_AUTHORIZATION}
            && !grep(/secret|c2VjcmV0|cHJveHk/, values %$e),
            "HTTP_AUTHORIZATION hidden: WSGIPassAuthorization "
            . ($where eq 'auth_off' ? 'Off' : 'unset (default)'));
}
($res, @log) = exchange(req('GET', '/security/auth_default?case=env&tag=authlc',
    "authorization: Basic d3NsOnNlY3JldA==\r\n"));
$e = env_of($res, 'authlc');
ok t_ok($res->{status} == 200 && !exists $e->{HTTP_AUTHORIZATION},
        'HTTP_AUTHORIZATION hidden: a lower-case authorization header too');
($res, @log) = exchange(req('GET', '/security/auth_on?case=env&tag=auth_on', $auth));
$e = env_of($res, 'auth_on');
ok t_cmp($e->{HTTP_AUTHORIZATION}, 'Basic d3NsOnNlY3JldA==',
         'HTTP_AUTHORIZATION passed with WSGIPassAuthorization On');
ok t_ok(!exists $e->{HTTP_PROXY_AUTHORIZATION},
        'Proxy-Authorization never reaches the app, even with WSGIPassAuthorization On');

# --- LimitRequestBody / LimitRequestFieldSize: before Python runs -------------------
# A Content-Length over LimitRequestBody is answered 413 before the
# application is called: Python never sees a byte of it.
($res, @log) = exchange(req('POST', '/security/limited?case=env&tag=lrb_over',
    "Content-Length: 101\r\n", 'x' x 101));
ok t_ok($res->{status} == 413 && ran('lrb_over', @log) == 0,
        'LimitRequestBody: Content-Length over the limit gets 413 without running the app')
    or diag("status $res->{status}, app ran " . ran('lrb_over', @log) . " times");
($res, @log) = exchange(req('POST', '/security/limited?case=env&tag=lrb_at',
    "Content-Length: 100\r\n", 'y' x 100));
$e = env_of($res, 'lrb_at');
ok t_ok($res->{status} == 200 && ($e->{'wsl.body'}{len} // -1) == 100,
        'LimitRequestBody: a body of exactly the limit is read whole (control)');
# Chunked: the length is not known up front, so the app runs, but its
# read fails at the limit and the client gets 413.
my $chunked = join('', map { sprintf("%x\r\n%s\r\n", 50, 'z' x 50) } 1 .. 3) . "0\r\n\r\n";
($res, @log) = exchange(req('POST', '/security/limited_chunked?case=env&tag=lrb_chunked',
    "Transfer-Encoding: chunked\r\n", $chunked));
my ($body_line) = grep /wsl-sec-body tag=lrb_chunked\b/, @log;
ok t_ok($res->{status} == 413 && $body_line && $body_line =~ /len=None error=OSError/,
        'LimitRequestBody: a chunked body over the limit is 413 and the app\'s read fails '
        . '(no bytes past the limit)')
    or diag("status $res->{status}; " . ($body_line // 'no body line'));

Apache::TestRequest::module('wsl_security_limits');
my $lport = test_port();
my $lhost = "Host: localhost:$lport\r\n";
{
    local $HOST = $lhost;
    ($res, @log) = exchange(req('GET', '/security/app?case=env&tag=lrfs_over',
        'X-Long: ' . ('a' x 300) . "\r\n"));
    ok t_ok($res->{status} == 400 && ran('lrfs_over', @log) == 0,
            'LimitRequestFieldSize: an over-long header line gets 400 without running the app')
        or diag("status $res->{status}");
    ($res, @log) = exchange(req('GET', '/security/app?case=env&tag=lrfs_ok',
        'X-Long: ' . ('a' x 100) . "\r\n"));
    $e = env_of($res, 'lrfs_ok');
    ok t_cmp($e->{HTTP_X_LONG}, 'a' x 100,
             'LimitRequestFieldSize: a header under the limit reaches the app (control)');
    ($res, @log) = exchange(req('GET', '/security/app?case=env&tag=lrf_over',
        join('', map { "X-H$_: v\r\n" } 1 .. 30)));
    ok t_ok($res->{status} == 400 && ran('lrf_over', @log) == 0,
            'LimitRequestFields: too many header lines get 400 without running the app');
}
Apache::TestRequest::module('default');

# --- a huge Content-Length with a short body -----------------------------------------
# The client announces 50 MB, sends 5 bytes and half-closes: the app's
# read ends in an error (never a silent short body), the answer comes at
# once (not after Timeout), and the server goes on serving.
sub short_body {
    my ($case, $tag) = @_;
    my $sock = raw_connect();
    my $res;
    my @lines = log_during(sub {
        print $sock req('POST', "/security/app?case=$case&tag=$tag",
                        "Content-Length: 50000000\r\n", 'short');
        shutdown($sock, SHUT_WR);
        my $t0 = Time::HiRes::time();
        my $data = '';
        my $sel = IO::Select->new($sock);
        while ($sel->can_read(60)) {
            last unless sysread($sock, my $buf, 65536);
            $data .= $buf;
        }
        $res = parse_response($data);
        $res->{elapsed} = Time::HiRes::time() - $t0;
    }, want => qr/wsl-sec-(?:body|read) tag=\Q$tag\E\b/);
    close $sock;
    return ($res, @lines);
}
($res, @log) = short_body('env', 'shortbody');
($body_line) = grep /wsl-sec-body tag=shortbody\b/, @log;
ok t_ok($body_line && $body_line =~ /len=None error=OSError/,
        'huge Content-Length, short body: the app\'s read raises an error')
    or diag($body_line // 'no body line');
$e = env_of($res, 'short body');
ok t_ok($res->{status} == 200 && ($e->{'wsl.body'}{error} // '') =~ /^OSError/
        && $res->{elapsed} < 30,
        'huge Content-Length, short body: the app that catches it answers at once, '
        . 'not after Timeout')
    or diag("status " . ($res->{status} // 'none') . " after $res->{elapsed}s");
($res, @log) = short_body('read', 'shortraw');
ok t_ok(($res->{status} // 0) == 400 && $res->{elapsed} < 30
        && !grep(/wsl-sec-read tag=shortraw len=/, @log),
        'huge Content-Length, short body: an app that lets the error propagate gives 400')
    or diag("status " . ($res->{status} // 'none') . " after $res->{elapsed}s");
{
    # The same, the client gone altogether (no one to answer).
    my $sock = raw_connect();
    my @lines = log_during(sub {
        print $sock req('POST', '/security/app?case=env&tag=shortgone',
                        "Content-Length: 50000000\r\n", 'short');
        Time::HiRes::sleep(0.2);
        close $sock;
    }, want => qr/wsl-sec-body tag=shortgone\b/, settle => 30);
    ($body_line) = grep /wsl-sec-body tag=shortgone\b/, @lines;
    ok t_ok($body_line && $body_line =~ /len=None error=OSError/,
            'huge Content-Length, client gone: the app\'s read raises an error');
    ok t_cmp(safe(sub { GET('/hello') })->content, 'Hello World',
             'huge Content-Length, short body: the server still serves');
}

# --- request smuggling ----------------------------------------------------------------
# Each attempt hides a second request ("smuggled") where a parser that
# took the other framing would see it.  Apache resolves the framing; the
# app must see the request as Apache resolved it, and never the smuggled
# one.  Keep-alive is left on so a smuggled request would be served.
my $smuggled = "GET /security/app?case=env&tag=SMUGGLED HTTP/1.1\r\n$HOST\r\n";
sub smuggle {
    my ($uri, $headers, $body) = @_;
    my $bytes = "POST $uri HTTP/1.1\r\n$HOST$headers\r\n$body";
    my ($res, @log) = exchange($bytes, timeout => 20);
    return ($res, ran('SMUGGLED', @log), @log);
}
my $te_body = "5\r\nhello\r\n0\r\n\r\n$smuggled";
my ($smug, $nsmug);
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=clte',
    "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", $te_body);
$e = env_of($smug, 'CL+TE');
ok t_ok($smug->{status} == 200 && ran('clte', @log) == 1 && $nsmug == 0,
        'request smuggling: Content-Length + Transfer-Encoding is one request, never two')
    or diag("status $smug->{status}, smuggled seen $nsmug");
ok t_ok(($e->{'wsl.body'}{text} // '') eq 'hello' && !exists $e->{CONTENT_LENGTH},
        'request smuggling: with CL + TE the app reads the de-chunked body and no CONTENT_LENGTH');
ok t_cmp($smug->{h}{connection}[0] // '', qr/close/i,
         'request smuggling: Apache closes the connection after a CL + TE request');
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=tecl',
    "Transfer-Encoding: chunked\r\nContent-Length: 100\r\n", $te_body);
ok t_ok(ran('tecl', @log) <= 1 && $nsmug == 0,
        'request smuggling: Transfer-Encoding before Content-Length, never two requests');
($smug, $nsmug, @log) = smuggle('/security/app?case=env&tag=clte_off',
    "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", $te_body);
ok t_ok($smug->{status} == 411 && ran('clte_off', @log) == 0 && $nsmug == 0,
        'request smuggling: CL + TE without WSGIChunkedRequest is 411, the app never runs')
    or diag("status $smug->{status}");
my $cl_body = "hello$smuggled";
($smug, $nsmug, @log) = smuggle('/security/app?case=env&tag=dupcl',
    "Content-Length: 5\r\nContent-Length: " . length($cl_body) . "\r\n", $cl_body);
ok t_ok($smug->{status} == 400 && ran('dupcl', @log) == 0 && $nsmug == 0,
        'request smuggling: two different Content-Length headers get 400, nothing runs')
    or diag("status $smug->{status}");
($smug, $nsmug, @log) = smuggle('/security/app?case=env&tag=dupcl_same',
    "Content-Length: 5\r\nContent-Length: 5\r\n", $cl_body);
$e = env_of($smug, 'dupcl_same') if $smug->{status} == 200;
ok t_ok($nsmug <= 1 && ran('dupcl_same', @log) <= 1
        && ($smug->{status} == 400
            || ($smug->{status} == 200 && ($e->{'wsl.body'}{text} // '') eq 'hello')),
        'request smuggling: a repeated equal Content-Length is refused or read as one body')
    or diag("status $smug->{status}");
($smug, $nsmug, @log) = smuggle('/security/app?case=env&tag=clcomma',
    "Content-Length: 5, " . length($cl_body) . "\r\n", $cl_body);
ok t_ok($smug->{status} == 400 && ran('clcomma', @log) == 0 && $nsmug == 0,
        'request smuggling: a Content-Length list gets 400, nothing runs');
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=te_bad',
    "Transfer-Encoding: chunked, identity\r\n", $te_body);
ok t_ok($smug->{status} =~ /^(?:400|501)$/ && ran('te_bad', @log) == 0 && $nsmug == 0,
        'request smuggling: a Transfer-Encoding not ending in chunked is refused, nothing runs')
    or diag("status $smug->{status}");
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=clspace',
    "Content-Length : 5\r\n", $cl_body);
ok t_ok($smug->{status} == 400 && ran('clspace', @log) == 0 && $nsmug == 0,
        'request smuggling: whitespace before the colon gets 400, nothing runs');
# obs-fold (RFC 9112 5.2): a folded header either is refused or reaches
# the app as one unfolded value; a folded Content-Length never frames.
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=fold',
    "X-Folded: first\r\n second\r\nContent-Length: " . length($cl_body) . "\r\n", $cl_body);
$e = $smug->{status} == 200 ? env_of($smug, 'obs-fold') : {};
ok t_ok($nsmug == 0 && ($smug->{status} == 400
            || (($e->{HTTP_X_FOLDED} // '') =~ /^first[ \t]+second$/
                && ($e->{'wsl.body'}{text} // '') eq $cl_body)),
        'request smuggling: obs-fold is refused or unfolded into one value')
    or diag("status $smug->{status}: " . ($e->{HTTP_X_FOLDED} // ''));
($smug, $nsmug, @log) = smuggle('/security/chunked?case=env&tag=foldcl',
    "X-Folded: first\r\n Content-Length: 5\r\nContent-Length: " . length($cl_body) . "\r\n",
    $cl_body);
$e = $smug->{status} == 200 ? env_of($smug, 'obs-fold CL') : {};
ok t_ok($nsmug == 0 && ($smug->{status} == 400
            || (($e->{CONTENT_LENGTH} // '') eq length($cl_body)
                && ($e->{'wsl.body'}{text} // '') eq $cl_body)),
        'request smuggling: a Content-Length folded into another header does not frame the body');
# Control: two requests really pipelined are both served, so the counting
# above would see a smuggled one.
($res, @log) = exchange("GET /security/app?case=env&tag=pipe1 HTTP/1.1\r\n$HOST\r\n"
    . req('GET', '/security/app?case=env&tag=pipe2'), timeout => 20);
ok t_ok(ran('pipe1', @log) == 1 && ran('pipe2', @log) == 1,
        'request smuggling (control): two pipelined requests are both counted');

# --- the script path cannot be escaped ----------------------------------------------
# t/security_outside/secret.wsgi (outside the DocumentRoot) and
# htdocs/security/denied/ (Require all denied) must stay out of reach
# through the WSGIScriptAlias, the WSGIScriptAliasMatch and the AddHandler
# directory, however the path is spelled.
my @escapes = (
    '/security/alias/../../security_outside/secret.wsgi',
    '/security/alias/../../../security_outside/secret.wsgi',
    '/security/alias/%2e%2e/%2e%2e/security_outside/secret.wsgi',
    '/security/alias/%2E%2E/%2E%2E/%2E%2E/security_outside/secret.wsgi',
    '/security/alias/..%2f..%2fsecurity_outside%2fsecret.wsgi',
    '/security/alias/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecurity_outside%2fsecret.wsgi',
    '/security/alias/..%5c..%5csecurity_outside%5csecret.wsgi',
    '/security/alias/%252e%252e/%252e%252e/security_outside/secret.wsgi',
    '/security/alias/../denied/secret.wsgi',
    '/security/alias/%2e%2e/denied/secret.wsgi',
    '/security/handler/../denied/secret.wsgi',
    '/security/handler/%2e%2e/denied/secret.wsgi',
    '/security/handler/.%2e/denied/secret.wsgi',
    '/security/handler/..%2fdenied%2fsecret.wsgi',
    '/security/handler/ok.wsgi/..%2f..%2fdenied%2fsecret.wsgi',
    '/security/handler/ok.wsgi/../../denied/secret.wsgi',
    '/security/handler/../../../security_outside/secret.wsgi',
    '/security/handler/%2e%2e/%2e%2e/%2e%2e/security_outside/secret.wsgi',
    '/security/handler/..%2f..%2f..%2fsecurity_outside%2fsecret.wsgi',
    '/security/handler//..//..//..//security_outside/secret.wsgi',
    '/security/handler/ok.wsgi%00/../../denied/secret.wsgi',
    '/security/match/..%2fdenied%2fsecret',
    '/security/match/%2e%2e%2fdenied%2fsecret',
    '/security/match/..',
    '/security/match/../denied/secret',
    '/security/match/..%2f..%2f..%2fsecurity_outside%2fsecret',
    '/%2e%2e/security_outside/secret.wsgi',
    '/../security_outside/secret.wsgi',
    '/security/denied/secret.wsgi',
);
for my $uri (@escapes) {
    ($res, @log) = exchange(req('GET', $uri));
    # Refused, or answered by the script mounted there (an odd PATH_INFO
    # is the app's to judge), never by the secret script or its source.
    ok t_ok((($res->{status} // 0) =~ /^(?:400|403|404)$/
             || ($res->{status} == 200
                 && $res->{body} =~ /^(?:alias|handler|match) app; PATH_INFO=/))
            && $res->{raw} !~ /wsl-escaped|wsl-secret-source/,
            "script path escape refused: $uri")
        or diag("status " . ($res->{status} // 'none') . ": $res->{body}");
}
# The same with AllowEncodedSlashes On (Apache decodes %2F, then removes
# the dot segments that made) and NoDecode (%2F stays in the path).
for my $vhost (qw(wsl_security_slashes_on wsl_security_slashes_nodecode)) {
    Apache::TestRequest::module($vhost);
    local $HOST = 'Host: localhost:' . test_port() . "\r\n";
    for my $uri (grep !m{^/security/denied/}, @escapes) {
        ($res, @log) = exchange(req('GET', $uri));
        ok t_ok((($res->{status} // 0) =~ /^(?:400|403|404)$/
                 || ($res->{status} == 200
                     && $res->{body} =~ /^(?:alias|handler|match) app; PATH_INFO=/))
                && $res->{raw} !~ /wsl-escaped|wsl-secret-source/,
                "script path escape refused ($vhost): $uri")
            or diag("status " . ($res->{status} // 'none') . ": $res->{body}");
    }
    ($res) = exchange(req('GET', '/security/alias/p%2fq'));
    ok t_cmp(($res->{status} // 0) . " $res->{body}",
             $vhost =~ /_on$/ ? '200 alias app; PATH_INFO=/p/q' : '200 alias app; PATH_INFO=/p%2fq',
             "script path (control, $vhost): an encoded slash in PATH_INFO");
}
Apache::TestRequest::module('default');

# Controls: the same mounts do run their own scripts, and dot segments
# inside PATH_INFO are resolved by Apache before the app sees them.
for (['/security/alias/x/../y', 'alias app; PATH_INFO=/y'],
     ['/security/alias/a/%2e%2e/b', 'alias app; PATH_INFO=/b'],
     ['/security/handler/ok.wsgi', 'handler app; PATH_INFO='],
     ['/security/handler/x/../ok.wsgi/p', 'handler app; PATH_INFO=/p'],
     ['/security/match/ok', 'match app; PATH_INFO=']) {
    my ($uri, $want) = @$_;
    ($res) = exchange(req('GET', $uri));
    ok t_cmp(($res->{status} // 0) . " $res->{body}", "200 $want",
             "script path (control): $uri runs the mounted script");
}

# --- CVE-2014-0240 -----------------------------------------------------------------------
# mod_wsgi < 3.5 (daemon mode): setuid() failing with EAGAIN (Linux < 3.1,
# RLIMIT_NPROC reached by the target user) went unchecked, so the daemon
# process kept running the app as root: a local privilege escalation.
# Here a daemon changes its ids only when Apache starts as root (as in
# mod_wsgi), checks each call, and never runs an application as root
# (t/root/ checks a setuid made to fail); this server is not root, so
# the group's user=nobody does not apply and its daemon runs as the
# children's User, never as root.
($res, @log) = exchange(req('GET', '/security/daemon_loc?case=ids&tag=daemon'));
my $dids = decode_json_body($res, 'daemon ids') || {};
ok t_ok($res->{status} == 200 && ran('daemon', @log) == 1
        && ($dids->{resuid} // [0])->[0] != 0
        && ($dids->{resuid} // [0])->[0] == $>,
        'CVE-2014-0240: a WSGIProcessGroup request runs in its daemon, never as root')
    or diag("status $res->{status} body $res->{body}");
my ($code, $out) = WSLServer->configtest(
    "WSGIScriptAlias /d " . Apache::Test::vars('documentroot')
    . "/security/app.wsgi process-group=wsl-security-daemon\n"
    . "WSGIDaemonProcess wsl-security-daemon user=root\n");
ok t_ok($code != 0 && $out =~ /root/,
        'CVE-2014-0240: a daemon group with user=root fails configtest');
my $ids = decode_json_body(raw_request(req('GET', '/security/app?case=ids&tag=ids')), 'ids');
# Apache::Test writes User and Group into httpd.conf (the user running
# the suite: the children keep that uid, nothing may change it).
my ($conf_user, $conf_group) = map { Apache::Test::vars($_) } qw(user group);
my $want_uid = defined $conf_user ? scalar getpwnam($conf_user) : $<;
my $want_gid = defined $conf_group ? scalar getgrnam($conf_group) : (split ' ', $()[0];
my ($proc_uid, $proc_gid) = ('', '');
if ($ids->{pid} && open my $st, '<', "/proc/$ids->{pid}/status") {
    while (<$st>) {
        $proc_uid = $1 if /^Uid:\s+(.*)$/;
        $proc_gid = $1 if /^Gid:\s+(.*)$/;
    }
    close $st;
}
ok t_cmp(join(' ', @{ $ids->{resuid} || [] }, '/', @{ $ids->{resgid} || [] }),
         "$want_uid $want_uid $want_uid / $want_gid $want_gid $want_gid",
         "CVE-2014-0240: the app runs with real, effective and saved uid and gid of "
         . "the child's User and Group (" . ($conf_user // $<) . ')');
ok t_cmp(join(' ', split(' ', $proc_uid), '/', split(' ', $proc_gid)),
         "$want_uid $want_uid $want_uid $want_uid / $want_gid $want_gid $want_gid $want_gid",
         'CVE-2014-0240: /proc shows the serving child with that same uid and gid');

# --- CVE-2014-0242 -----------------------------------------------------------------------
# mod_wsgi < 3.4 (embedded mode): the Content-Type handed to Apache
# pointed into the Python string the app passed to start_response; when
# that string was freed before the first non-empty body bytes and the
# memory reused, the client got other memory (the app's data) as its
# Content-Type: an information leak.  mod_wsgi_lite copies every header
# into the request pool while it validates it.  The app here computes
# each value, drops it, churns the allocator, yields b'' and then the
# body: the header must come back byte for byte, also under concurrency.
sub uri_escape_bytes {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}
my @ctypes = (
    'text/plain; charset=utf-8',
    'application/x-wsl-' . ('k' x 3000),
    'text/x-wsl; a="b; c=d"; q=0.5; x=caf' . "\xe9",
    'multipart/form-data; boundary=' . ('-' x 20) . ('0123456789' x 7),
    'x/' . join('', map { chr(0x21 + $_ % 94) } 0 .. 499) =~ s/[;"\\]//gr,
);
sub ctype_request {
    my ($value, $tag) = @_;
    my $q = uri_escape_bytes(Encode::encode('UTF-8', $value));
    return req('GET', "/security/app?case=ctype&tag=$tag&v=$q");
}
$n = 0;
for my $value (@ctypes) {
    my $r = raw_request(ctype_request($value, 'ct' . $n));
    my $latin1 = Encode::encode('latin-1', $value);
    ok t_ok(($r->{h}{'content-type'}[0] // '') eq $latin1 && $r->{body} eq $latin1,
            'CVE-2014-0242: Content-Type ' . length($value) . ' chars, freed before the '
            . 'first body bytes, comes back exactly (' . substr($value, 0, 24) . '...)')
        or diag("got: " . substr($r->{h}{'content-type'}[0] // 'none', 0, 200));
    $n++;
}
{
    # 48 requests, 16 at a time, each with a different value.
    my ($bad, $done) = (0, 0);
    for my $round (1 .. 3) {
        my %want;
        my $sel = IO::Select->new;
        my %data;
        for my $i (1 .. 16) {
            my $value = "application/x-wsl-r$round-i$i-" . ('v' x (100 * $i));
            my $s = raw_connect();
            print $s ctype_request($value, "cc$round.$i");
            $want{$s} = $value;
            $data{$s} = '';
            $sel->add($s);
        }
        my $deadline = time + 60;
        while ($sel->count && time < $deadline) {
            for my $s ($sel->can_read(5)) {
                if (sysread($s, my $buf, 65536)) {
                    $data{$s} .= $buf;
                    next;
                }
                $sel->remove($s);
                close $s;
            }
        }
        for my $s (keys %data) {
            my $r = parse_response($data{$s});
            $done++;
            $bad++ unless ($r->{h}{'content-type'}[0] // '') eq $want{$s}
                && $r->{body} eq $want{$s};
        }
    }
    ok t_cmp("$done/$bad", '48/0',
             'CVE-2014-0242: 48 concurrent requests, each gets its own Content-Type exactly');
}

# --- CVE-2022-2255 -----------------------------------------------------------------------
# mod_wsgi < 4.9.3: with WSGITrustedProxies and X-Client-IP listed in
# WSGITrustedProxyHeaders, an X-Client-IP header from a peer that is NOT
# a trusted proxy was left in the environ (the other client-address
# headers were removed), so an app or middleware reading HTTP_X_CLIENT_IP
# could be given any address by any client.
my $xci = "X-Client-IP: 6.6.6.6\r\nX-Real-IP: 6.6.6.7\r\nX-Forwarded-For: 6.6.6.8\r\n";
($res, @log) = exchange(req('GET', '/security/client_ip_untrusted?case=env&tag=xci', $xci));
$e = env_of($res, 'X-Client-IP untrusted');
ok t_ok($res->{status} == 200 && !exists $e->{HTTP_X_CLIENT_IP}
        && !exists $e->{HTTP_X_REAL_IP} && !exists $e->{HTTP_X_FORWARDED_FOR},
        'CVE-2022-2255: X-Client-IP from an untrusted peer is removed from environ');
ok t_cmp($e->{REMOTE_ADDR}, '127.0.0.1',
         'CVE-2022-2255: X-Client-IP from an untrusted peer does not set REMOTE_ADDR');
($res, @log) = exchange(req('GET', '/security/client_ip_untrusted?case=env&tag=xcilc',
    "x-client-ip: 6.6.6.6\r\nX_Client_IP: 6.6.6.6\r\n"));
$e = env_of($res, 'x-client-ip lower case');
ok t_ok($res->{status} == 200 && !grep({ ($e->{$_} // '') =~ /6\.6\.6\.6/ } keys %$e),
        'CVE-2022-2255: lower-case x-client-ip and X_Client_IP are removed too');
# Control: from a trusted proxy the header is honoured, the others dropped.
($res, @log) = exchange(req('GET', '/security/client_ip_trusted?case=env&tag=xcit', $xci));
$e = env_of($res, 'X-Client-IP trusted');
ok t_cmp(join(' ', map { $e->{$_} // 'undef' }
                  qw(REMOTE_ADDR HTTP_X_REAL_IP HTTP_X_FORWARDED_FOR)),
         '6.6.6.6 undef undef',
         'CVE-2022-2255 (control): from a trusted proxy X-Client-IP sets REMOTE_ADDR, '
         . 'the unlisted headers are dropped');

# --- nothing crashed ------------------------------------------------------------------------
my $errlog = do {
    local $/;
    open my $fh, '<', WSLTest::logs_dir() . '/error_log' or die $!;
    <$fh>;
};
ok t_cmp(scalar(() = $errlog =~ /exit signal|Segmentation|AddressSanitizer/g), 0,
         'no child crashed during the security tests');
