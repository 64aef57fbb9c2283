# errors.t: every kind of application error gives a 500 (or 404 for a
# missing script), one WSL-tagged error_log entry naming the request URI,
# the Python traceback in the log (never in the response), and a server
# that keeps answering.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok safe log_during wsgi_log_entries raw_request test_port);

# [ name, URI, what the log must also contain (regexp) or undef ]
my %status_error = (
    no_reason   => qr/ValueError: status '200' is not of the form/,
    no_code     => qr/ValueError: status 'OK' is not of the form/,
    two_digits  => qr/ValueError: status '20 OK' is not of the form/,
    four_digits => qr/ValueError: status '2000 OK' is not of the form/,
    letters     => qr/ValueError: status 'abc OK' is not of the form/,
    no_space    => qr/ValueError: status '200OK' is not of the form/,
    bytes       => qr/TypeError: status must be str, not bytes/,
    int         => qr/TypeError: status must be str, not int/,
    crlf        => qr/ValueError: status '200 OK\\\\r\\\\nX-Injected: 1' contains a forbidden character \(0x0d\)/,
);
my %header_error = (
    int_value   => qr/TypeError: header value must be str, not int/,
    bytes_name  => qr/TypeError: header name must be str, not bytes/,
    bytes_value => qr/TypeError: header value must be str, not bytes/,
    none_value  => qr/TypeError: header value must be str, not NoneType/,
    not_tuple   => qr/TypeError: response header 0 must be a \(name, value\) tuple, not list/,
    triple      => qr/TypeError: response header 0 must be a \(name, value\) tuple, not tuple/,
    not_list    => qr/TypeError: response headers must be a list, not tuple/,
    space_name  => qr/ValueError: header name 'X Bad' contains a forbidden character \(0x20\)/,
    colon_name  => qr/ValueError: header name 'X:Bad' contains a forbidden character \(0x3a\)/,
    empty_name  => qr/ValueError: header name is empty/,
    cr_value    => qr/ValueError: header value 'a\\\\rX-Injected: 1' contains a forbidden character \(0x0d\)/,
    lf_value    => qr/ValueError: header value 'a\\\\nX-Injected: 1' contains a forbidden character \(0x0a\)/,
    crlf_value  => qr/ValueError: header value 'a\\\\r\\\\nX-Injected: 1' contains a forbidden character \(0x0d\)/,
    nul_value   => qr/ValueError: header value 'a\\\\x00b' contains a forbidden character \(0x00\)/,
    non_latin1  => qr/ValueError: header value 'snowman .+' has characters outside latin-1/,
);
my %hop_header = (
    hop_connection => 'Connection', hop_keep_alive => 'Keep-Alive',
    hop_transfer_encoding => 'Transfer-Encoding', hop_upgrade => 'Upgrade',
    hop_te => 'TE', hop_trailer => 'Trailer',
    hop_proxy_authenticate => 'Proxy-Authenticate',
    hop_proxy_authorization => 'Proxy-Authorization',
    hop_lower_case => 'connection',
);

# [ name, URI, what the log must contain: the error the case is about ]
my @cases = (
    ['app raises an exception', '/errors/raise.wsgi',
        qr/RuntimeError: wsl-marker-raise/],
    ['app returns None', '/errors/none.wsgi',
        qr/TypeError: 'NoneType' object is not iterable/],
    ['app returns a str', '/errors/str.wsgi',
        qr/TypeError: WSGI application returned str; it must return an iterable of bytes/],
    ['app returns a list of str', '/errors/str_list.wsgi',
        qr/TypeError: WSGI response body must be an iterable of bytes, got str/],
    ['app yields a str', '/errors/yield_str.wsgi',
        qr/TypeError: WSGI response body must be an iterable of bytes, got str/],
    ['app never calls start_response', '/errors/no_start.wsgi',
        qr/RuntimeError: response body produced before start_response\(\) was called/],
    ['start_response called twice without exc_info', '/errors/start_twice.wsgi',
        qr/RuntimeError: start_response\(\) called again without exc_info/],
    ['script has a SyntaxError', '/errors/syntax.wsgi', qr/SyntaxError/],
    ['script raises while loading', '/errors/import_error.wsgi',
        qr/ImportError: wsl-marker-import/],
    ['script lacks the callable', '/errors/no_callable.wsgi',
        qr/WSL00021: WSGI script '[^']*no_callable\.wsgi' does not define the callable 'application'/],
    ['callable is not callable', '/errors/not_callable.wsgi',
        qr/TypeError: 'str' object is not callable/],
    (map { ["malformed status ($_)", "/errors/status.wsgi?$_", $status_error{$_}] }
        sort keys %status_error),
    (map { ["bad header ($_)", "/errors/header.wsgi?$_", $header_error{$_}] }
        sort keys %header_error),
    (map { ["hop-by-hop header ($_)", "/errors/header.wsgi?$_",
            qr/ValueError: hop-by-hop header '\Q$hop_header{$_}\E' may not be set by a WSGI application/] }
        sort keys %hop_header),
);

plan tests => 7 * @cases + 14, need_module 'mod_wsgi_lite.c';

# httpd drops the connection after a 500, so "the same child" is checked by
# pid: the process that logged the error must still be alive and serving.

for my $case (@cases) {
    my ($name, $uri, $extra) = @$case;
    (my $path = $uri) =~ s/\?.*//;
    (my $script = $path) =~ s{.*/}{};
    my $res;
    my @log = log_during(sub { $res = safe(sub { GET($uri) }) }, want => qr/WSL\d+:/);
    ok t_cmp($res->code, 500, "$name: 500")
        or t_debug("response: " . substr($res->as_string, 0, 300));
    ok t_cmp($res->content, qr/^(?!.*(?:Traceback|should not be sent|wsl-marker))/s,
             "$name: no traceback or app output in the response body");
    ok t_ok(!grep(/^X-Injected/mi, $res->headers->as_string),
       "$name: nothing injected into the response headers");
    my @wsl = grep { index($_, $uri) >= 0 || index($_, $path) >= 0 }
              wsgi_log_entries(@log);
    ok t_ok(@wsl >= 1, "$name: a WSL-tagged error_log entry names the URI");
    ok t_cmp(join('', @log), $extra, "$name: the log says what was wrong");
    my ($pid) = map { /\[pid (\d+)/ ? $1 : () } @wsl;
    ok t_ok($pid && kill(0, $pid), "$name: the child that failed is still running");
    ok t_cmp(safe(sub { GET('/hello') })->content, 'Hello World',
             "$name: the next request works");
}

# Tracebacks: the app's frames are in the log.
my $res;
my @log = log_during(sub { $res = GET('/errors/raise.wsgi') },
                     want => qr/wsl-marker-raise/);
ok t_cmp(join('', @log), qr/Traceback \(most recent call last\)/,
         'the log holds the "Traceback (most recent call last)" header');
ok t_cmp(join('', @log), qr/raise\.wsgi", line 2/,
         'the log holds the traceback line of the failing frame');
ok t_cmp(scalar(grep /RuntimeError: wsl-marker-raise/, @log), 1,
         'the exception is logged once');

# Errors while iterating, after start_response: either a 500 (nothing was
# sent yet) or a response cut short (connection closed, no final chunk).
my $raw;
@log = log_during(sub {
    $raw = raw_request("GET /errors/iter_error.wsgi HTTP/1.1\r\n"
                       . "Host: localhost:" . test_port() . "\r\n\r\n",
                       timeout => 20);
}, want => qr/wsl-marker-mid-body/);
ok t_cmp(join('', @log), qr/RuntimeError: wsl-marker-mid-body/,
         'an exception in the middle of the body is logged');
ok t_ok($raw->{status} == 500 || !$raw->{complete},
   'an exception mid-body gives a 500 or a visibly truncated response');
ok t_cmp(scalar(grep { /WSL\d+:/ && m{/errors/iter_error\.wsgi} } @log), qr/^[1-9]/,
         'the mid-body error entry names the URI');

@log = log_during(sub { $res = GET('/errors/close_error.wsgi') },
                  want => qr/wsl-marker-close/);
ok t_cmp($res->content, 'body before a failing close',
         'an exception in close() after the body does not change the body');
ok t_cmp(join('', @log), qr/RuntimeError: wsl-marker-close/,
         'an exception in close() is logged');

# Missing scripts: 404, not 500.
$res = GET('/missing_script');
ok t_cmp($res->code, 404, 'WSGIScriptAlias to a missing file gives 404');
$res = GET('/missing_script/with/path');
ok t_cmp($res->code, 404, 'missing script with path info gives 404');
$res = GET('/errors/does-not-exist.wsgi');
ok t_cmp($res->code, 404, 'SetHandler wsgi-script on a missing file gives 404');

# The errors did not crash any child.
my $errlog = Apache::Test::vars('t_logs') . '/error_log';
open my $fh, '<', $errlog or die "$errlog: $!";
my @crash = grep /exit signal|Segmentation fault|child pid \d+ exit/, <$fh>;
close $fh;
ok t_cmp("@crash", '', 'no child crashed (no "exit signal" in error_log)');

# After all of that, one child serves several good requests in a row.
my @pids = map { (split ' ', GET_BODY('/pid'))[0] // '' } 1 .. 3;
ok t_cmp(scalar(grep /^\d+$/, @pids), 3, 'the server still serves the pid probe');
ok t_cmp(GET_BODY('/hello'), 'Hello World', 'the server still says hello');
