# environ.t: the WSGI environ (PEP 3333 "environ Variables") as built from
# the request: CGI variables, HTTP_* headers, wsgi.* and mod_wsgi_lite.*
# keys, all str values as latin-1 native strings.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Time::HiRes ();
use WSLTest qw(t_ok get_json post_json raw_request raw_connect read_until_eof daemon_mode
               decode_json_body log_during expected_mpm test_port);

plan tests => 98, need_module 'mod_wsgi_lite.c';

my $vars = Apache::Test::vars();
my $port = test_port();
my $docroot = $vars->{documentroot};
my $script = "$docroot/wsgi/environ.wsgi";

# --- a plain GET with path info and a query --------------------------------
my $t0 = int(Time::HiRes::time() * 1_000_000);
my $r = get_json('/environ/a%20b/c%7Ed?x=1&y=%20', 'X-Custom' => 'custom-value');
my $e = $r->{environ} || {};
my $types = $r->{types} || {};

ok t_cmp($e->{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD is GET');
ok t_cmp($e->{SCRIPT_NAME}, '/environ', 'SCRIPT_NAME is the WSGIScriptAlias URL');
ok t_cmp($e->{PATH_INFO}, '/a b/c~d', 'PATH_INFO is percent-decoded');
ok t_cmp($e->{QUERY_STRING}, 'x=1&y=%20', 'QUERY_STRING is passed undecoded');
ok t_cmp($e->{REQUEST_URI}, '/environ/a%20b/c%7Ed?x=1&y=%20',
         'REQUEST_URI is the raw request target');
ok t_cmp($e->{SERVER_NAME}, 'localhost', 'SERVER_NAME is the host name');
ok t_cmp($e->{SERVER_PORT}, "$port", 'SERVER_PORT is the port as a str');
ok t_cmp($e->{SERVER_PROTOCOL}, 'HTTP/1.1', 'SERVER_PROTOCOL is HTTP/1.1');
ok t_cmp($e->{REMOTE_ADDR}, qr/^(?:127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/,
         'REMOTE_ADDR is the loopback client');
ok t_cmp($e->{REMOTE_PORT}, qr/^\d+$/, 'REMOTE_PORT is a number');
ok t_cmp($e->{SERVER_SOFTWARE}, qr/^Apache/, 'SERVER_SOFTWARE names Apache');
ok t_cmp($e->{GATEWAY_INTERFACE}, 'CGI/1.1', 'GATEWAY_INTERFACE is CGI/1.1');
ok t_cmp($e->{SCRIPT_FILENAME}, $script, 'SCRIPT_FILENAME is the script path');
ok t_cmp($e->{DOCUMENT_ROOT}, $docroot, 'DOCUMENT_ROOT is the DocumentRoot');
ok t_cmp($e->{REQUEST_SCHEME}, 'http', 'REQUEST_SCHEME is http');
ok t_cmp($e->{HTTP_HOST}, "localhost:$port", 'HTTP_HOST is the Host header');
ok t_cmp($e->{HTTP_X_CUSTOM}, 'custom-value',
         'a request header X-Custom becomes HTTP_X_CUSTOM');
ok t_cmp($e->{WSL_SETENV}, 'set-by-setenv', 'SetEnv values are in the environ');
ok t_ok(!exists $e->{CONTENT_LENGTH} || $e->{CONTENT_LENGTH} =~ /^0?$/,
   'a GET without a body has no (or an empty/zero) CONTENT_LENGTH');

# wsgi.* keys (PEP 3333 table)
ok t_cmp(join(',', @{ $e->{'wsgi.version'} || [] }), '1,0',
         'wsgi.version is (1, 0)');
ok t_cmp($types->{'wsgi.version'}, 'tuple', 'wsgi.version is a tuple');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http', 'wsgi.url_scheme is http');
ok t_cmp(join(',', @{ $r->{input_methods} || [] }),
         'read,readline,readlines,__iter__',
         'wsgi.input has read, readline, readlines and iteration');
ok t_cmp(join(',', @{ $r->{errors_methods} || [] }), 'write,writelines,flush',
         'wsgi.errors has write, writelines and flush');
ok t_cmp($types->{'wsgi.multithread'}, 'bool', 'wsgi.multithread is a bool');
ok t_cmp($types->{'wsgi.multiprocess'}, 'bool', 'wsgi.multiprocess is a bool');
my $mpm = expected_mpm();
# In daemon mode: the group's threads= (wsl-suite has 40).
my $threaded = $mpm eq 'prefork' && !daemon_mode() ? 0 : 1;
ok t_cmp($e->{'wsgi.multithread'} ? 1 : 0, $threaded,
         daemon_mode() ? 'wsgi.multithread: the daemon group has 40 threads'
                       : "wsgi.multithread matches the $mpm MPM (the MPM this run asked for)");
ok t_cmp($types->{'wsgi.run_once'} . ':' . ($e->{'wsgi.run_once'} ? 1 : 0),
         'bool:0', 'wsgi.run_once is False');
ok t_cmp($types->{'wsgi.input_terminated'} . ':'
         . ($e->{'wsgi.input_terminated'} ? 1 : 0),
         'bool:1', 'wsgi.input_terminated is True');
ok t_ok($r->{file_wrapper_callable}, 'wsgi.file_wrapper is callable');

# mod_wsgi_lite.* keys
ok t_cmp($e->{'mod_wsgi_lite.process_group'}, daemon_mode() ? 'wsl-suite' : '',
         'mod_wsgi_lite.process_group is the daemon group, or empty (embedded mode)');
ok t_cmp($e->{'mod_wsgi_lite.application_group'}, "localhost:$port|/environ",
         'mod_wsgi_lite.application_group defaults to host:port|SCRIPT_NAME');
ok t_cmp($e->{'mod_wsgi_lite.script_reloading'}, '1',
         'mod_wsgi_lite.script_reloading is "1"');
ok t_cmp($e->{'mod_wsgi_lite.callable_object'}, 'application',
         'mod_wsgi_lite.callable_object defaults to application');
my $start = $e->{'mod_wsgi_lite.request_start'} // '';
ok t_cmp($start, qr/^\d{16}$/,
         'mod_wsgi_lite.request_start is a microsecond timestamp');
my $t1 = int(Time::HiRes::time() * 1_000_000);
ok t_ok($start =~ /^\d+$/ && $start >= $t0 - 2_000_000 && $start <= $t1 + 2_000_000,
   'mod_wsgi_lite.request_start is the time of the request');

# Every CGI-style key and every HTTP_* key is a native str.
my @not_str = grep { /^(?:[A-Z_]+)$/ && $types->{$_} ne 'str' } sort keys %$types;
ok t_cmp("@not_str", '', 'all CGI and HTTP_* values are str');
my @mws = grep { ($types->{$_} // 'missing') ne 'str' }
          map { "mod_wsgi_lite.$_" }
          qw(process_group application_group script_reloading request_start
             callable_object);
ok t_cmp("@mws", '', 'the mod_wsgi_lite.* keys of the spec are present and str');

# --- PATH_INFO edge cases ---------------------------------------------------
$e = get_json('/environ')->{environ} || {};
ok t_cmp($e->{PATH_INFO} // '', '', 'PATH_INFO is empty at the mount point');
ok t_cmp($e->{QUERY_STRING} // '', '', 'QUERY_STRING is empty without a query');
$e = get_json('/environ/')->{environ} || {};
ok t_cmp($e->{PATH_INFO}, '/', 'PATH_INFO is / for a trailing slash');
$e = get_json('/environ/%C3%A9t%C3%A9')->{environ} || {};
ok t_cmp($e->{PATH_INFO}, "/\xc3\xa9t\xc3\xa9",
         'PATH_INFO holds the decoded bytes as latin-1 characters');

# --- POST: CONTENT_TYPE and CONTENT_LENGTH ----------------------------------
$e = post_json('/environ', 'hello', 'Content-Type' => 'text/x-wsl')->{environ} || {};
ok t_cmp($e->{REQUEST_METHOD}, 'POST', 'REQUEST_METHOD is POST');
ok t_cmp($e->{CONTENT_TYPE}, 'text/x-wsl', 'CONTENT_TYPE is the Content-Type');
ok t_cmp($e->{CONTENT_LENGTH}, '5', 'CONTENT_LENGTH is the body length');
ok t_ok(!exists $e->{HTTP_CONTENT_TYPE} && !exists $e->{HTTP_CONTENT_LENGTH},
   'Content-Type and Content-Length are not duplicated as HTTP_*');

# --- raw header edge cases --------------------------------------------------
my $res = raw_request(join "\r\n",
    'GET /environ HTTP/1.1',
    "Host: localhost:$port",
    'X-Multi: first',
    'X-Multi: second',
    'X_Forwarded_For: 6.6.6.6',
    'X-Real: kept',
    'Proxy: http://evil.example:8080',
    "X-Latin: caf\xe9",
    'Connection: close',
    '', '');
$e = decode_json_body($res, 'raw /environ')->{environ} || {};
ok t_cmp($e->{HTTP_X_MULTI}, 'first, second',
         'repeated request headers are joined with ", "');
ok t_ok(!exists $e->{HTTP_X_FORWARDED_FOR},
   'a header name with "_" (X_Forwarded_For) is dropped, not turned into HTTP_X_FORWARDED_FOR');
ok t_cmp($e->{HTTP_X_REAL}, 'kept', 'a normal header next to it is kept');
ok t_ok(!exists $e->{HTTP_PROXY}, 'a Proxy header never becomes HTTP_PROXY (httpoxy)');
ok t_cmp($e->{HTTP_X_LATIN}, "caf\x{e9}",
         'header bytes are decoded as latin-1 (native str)');
ok t_cmp($e->{SERVER_PROTOCOL}, 'HTTP/1.1', 'raw request: SERVER_PROTOCOL');

$res = raw_request("GET /environ HTTP/1.0\r\n\r\n");
$e = decode_json_body($res, 'HTTP/1.0 /environ')->{environ} || {};
ok t_cmp($e->{SERVER_PROTOCOL}, 'HTTP/1.0', 'SERVER_PROTOCOL is HTTP/1.0 for a 1.0 request');

# --- WSGIScriptAlias / (VirtualHost wsl_root) -------------------------------
Apache::TestRequest::module('wsl_root');
my $root_port = test_port();
$e = get_json('/')->{environ} || {};
ok t_cmp($e->{SCRIPT_NAME}, '', 'mounted at /: SCRIPT_NAME is empty');
ok t_cmp($e->{PATH_INFO}, '/', 'mounted at /: PATH_INFO is /');
$e = get_json('/x/y%21?q=1')->{environ} || {};
ok t_cmp($e->{SCRIPT_NAME}, '', 'mounted at /: SCRIPT_NAME stays empty for deeper paths');
ok t_cmp($e->{PATH_INFO}, '/x/y!', 'mounted at /: PATH_INFO is the whole decoded path');
ok t_cmp($e->{'mod_wsgi_lite.application_group'}, "localhost:$root_port|",
         'mounted at /: application group is host:port|');
ok t_cmp($e->{SERVER_PORT}, "$root_port", 'SERVER_PORT is the virtual host port');
my $static = GET('/static/plain.txt');
ok t_cmp($static->code, 200, 'Alias /static/ beside WSGIScriptAlias /: 200');
ok t_cmp($static->content, "wsl static file\n",
         'Alias /static/ wins over WSGIScriptAlias / (the file, not the app)');
$e = get_json('/staticx')->{environ} || {};
ok t_cmp($e->{PATH_INFO}, '/staticx', 'a path outside the Alias still reaches the app');
Apache::TestRequest::module('default');

# --- rules applied to the request's bytes (src/snapshot.c) ------------------
# /environ_rules sets SetEnv variables named like CGI variables, constants
# and mod_wsgi keys, one named like a header, and adds a request header of
# its own (t/conf/extra.conf.in).
$e = get_json('/environ_rules/p?q=1', 'X-Joined' => 'from-client',
              'X-Added' => 'from-client')->{environ} || {};
ok t_cmp($e->{SCRIPT_NAME}, '/environ_rules',
         'SetEnv SCRIPT_NAME loses to the CGI variable');
ok t_cmp($e->{REQUEST_METHOD}, 'GET',
         'SetEnv REQUEST_METHOD loses to the CGI variable');
ok t_cmp($e->{REMOTE_ADDR}, qr/^(?:127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/,
         'SetEnv REMOTE_ADDR loses to the real peer');
ok t_cmp($e->{GATEWAY_INTERFACE}, 'CGI/1.1',
         'SetEnv GATEWAY_INTERFACE loses to the constant');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http',
         'SetEnv wsgi.url_scheme loses to the real scheme');
ok t_cmp($e->{'mod_wsgi.script_name'}, '/environ_rules',
         'SetEnv mod_wsgi.script_name loses to the script name');
ok t_cmp(($e->{'mod_wsgi_lite.application_group'} // 'undef') . ' '
         . ($e->{'mod_wsgi.application_group'} // 'undef'),
         "localhost:$port|/environ_rules localhost:$port|/environ_rules",
         'SetEnv mod_wsgi_lite.application_group loses; its mod_wsgi twin agrees');
ok t_cmp($e->{REMOTE_USER}, 'setenv-user',
         'SetEnv REMOTE_USER stays when the request has no user of its own');
ok t_cmp($e->{HTTP_X_JOINED}, 'from-setenv, from-client',
         'a request header is joined to a SetEnv of its HTTP_* name');
ok t_cmp($e->{HTTP_X_ADDED}, 'from-client, from-config',
         'a header that RequestHeader add puts beside the client\'s is joined to it');
ok t_cmp($e->{CONTENT_TYPE}, 'setenv/type',
         'SetEnv CONTENT_TYPE stays on a request without Content-Type');
$e = post_json('/environ_rules', 'body', 'Content-Type' => 'text/x-client')
     ->{environ} || {};
ok t_cmp($e->{CONTENT_TYPE}, 'text/x-client',
         'a Content-Type header replaces a SetEnv CONTENT_TYPE (not joined)');

# --- wsgi.errors goes to the error log ---------------------------------------
my $marker = "m$$" . int(rand 1e6);
my $body;
my @lines = log_during(sub { $body = GET_BODY("/errors_stream?$marker") },
                       want => qr/wsl-errors-print $marker/);
ok t_cmp($body, 'logged', 'an app writing to wsgi.errors still answers');
ok t_cmp(scalar(grep /wsl-errors-write $marker/, @lines), 1,
         'wsgi.errors.write() lands in the error log once');
ok t_cmp(scalar(grep /wsl-errors-writelines $marker/, @lines), 1,
         'wsgi.errors.writelines() lands in the error log');
ok t_cmp(scalar(grep /wsl-errors-print $marker/, @lines), 1,
         'print(file=wsgi.errors) lands in the error log');

# --- the environ is per request ----------------------------------------------
my $a = get_json('/environ?first', 'X-Only-First' => 1)->{environ} || {};
my $b = get_json('/environ?second')->{environ} || {};
ok t_ok(exists $a->{HTTP_X_ONLY_FIRST} && !exists $b->{HTTP_X_ONLY_FIRST},
   'a header of one request does not leak into the next environ');
ok t_cmp($b->{QUERY_STRING}, 'second', 'each request gets its own QUERY_STRING');

# --- values reused between requests follow each request -------------------
# /kept_one and /kept_two share one interpreter: SCRIPT_NAME and
# REQUEST_METHOD change from request to request, and the str the module
# keeps from the last request must not leak into the next.
for my $step (['/kept_one', 'GET'], ['/kept_two', 'GET'],
              ['/kept_two', 'POST'], ['/kept_one', 'POST'],
              ['/kept_one', 'GET'], ['/kept_two', 'GET']) {
    my ($url, $method) = @$step;
    my $env = ($method eq 'GET' ? get_json("$url/x")
                                : post_json("$url/x", 'body'))->{environ}
              || {};
    ok t_cmp($env->{SCRIPT_NAME}, $url, "$method $url: its own SCRIPT_NAME");
    ok t_cmp("$env->{REQUEST_METHOD} $env->{'mod_wsgi_lite.application_group'}",
             "$method wsl-kept",
             "$method $url: its own REQUEST_METHOD, the shared group");
}

# Header values and REMOTE_PORT are reused the same way.
for my $value (qw(one two one)) {
    my $env = get_json('/kept_one/x', 'X-Kept' => $value)->{environ} || {};
    ok t_cmp($env->{HTTP_X_KEPT}, $value,
             "a reused header value follows each request (X-Kept: $value)");
}

# Two requests on one keep-alive connection, then one on another: each
# REMOTE_PORT is the client's port of its own connection.
sub environs_on_one_connection {
    my @paths = @_;
    my $sock = raw_connect();
    my $local = $sock->sockport;
    my $last = pop @paths;
    print $sock join('', map { "GET $_ HTTP/1.1\r\nHost: localhost:$port\r\n\r\n" }
                         @paths),
                "GET $last HTTP/1.1\r\nHost: localhost:$port\r\nConnection: close\r\n\r\n";
    my $data = read_until_eof($sock, Time::HiRes::time() + 60);
    close $sock;
    my @envs;
    while ((my $end = index($data, "\r\n\r\n")) >= 0) {
        my ($len) = substr($data, 0, $end) =~ /^Content-Length:\s*(\d+)/mi;
        last unless defined $len;
        push @envs, decode_json_body({ status => 200,
                                       body => substr($data, $end + 4, $len) },
                                     'pipelined /kept_one')->{environ} || {};
        $data = substr($data, $end + 4 + $len);
    }
    return ($local, @envs);
}
my ($port1, @first) = environs_on_one_connection('/kept_one/a', '/kept_one/b');
my ($port2, @second) = environs_on_one_connection('/kept_one/c');
ok t_cmp(join(' ', map { $_->{REMOTE_PORT} // 'undef' } @first),
         "$port1 $port1",
         'two requests of one connection: REMOTE_PORT is its client port');
ok t_cmp(($second[0] || {})->{REMOTE_PORT}, "$port2",
         'the next connection: REMOTE_PORT is its own client port');
ok t_ok($port1 != $port2, '(setup) the two connections had different ports');
