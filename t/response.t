# response.t: start_response and the response (PEP 3333 "The
# start_response() Callable", "Buffering and Streaming"): status lines,
# headers, the write() callable, exc_info, and close() on the iterable.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Time::HiRes ();
use WSLTest qw(t_ok raw_request raw_connect test_port logs_dir wait_until);

plan tests => 45, need_module 'mod_wsgi_lite.c';

my $port = test_port();

sub raw_get {
    my ($path, $method) = @_;
    $method ||= 'GET';
    return raw_request("$method $path HTTP/1.1\r\nHost: localhost:$port\r\n"
                       . "Connection: close\r\n\r\n",
                       head => $method eq 'HEAD');
}

# --- status lines -----------------------------------------------------------
my $r = raw_get('/response?case=created');
ok t_cmp($r->{status}, 201, 'status "201 Created" gives 201');
ok t_cmp($r->{body}, 'made', 'the body of a 201 is sent');
$r = raw_get('/response?case=reason');
ok t_cmp("$r->{status} $r->{reason}", '200 Fine Thanks',
         'a custom reason phrase is sent as given');
$r = raw_get('/response?case=teapot');
ok t_cmp($r->{status}, 418, 'a status Apache has no name for (418) is sent');
$r = raw_get('/response?case=redirect');
ok t_cmp($r->{status}, 302, '302 is sent');
ok t_cmp($r->{h}{location}[0], 'http://example.com/x', 'Location header is passed unchanged');

# --- headers ----------------------------------------------------------------
$r = raw_get('/response?case=headers');
ok t_cmp($r->{h}{'x-server'}[0], 'MyDemo_app', 'a custom header is sent');
ok t_cmp(join(' ; ', @{ $r->{h}{'set-cookie'} || [] }),
         'a=1; Path=/ ; b=2; Path=/',
         'repeated Set-Cookie headers are sent separately, in order');
ok t_cmp(join(',', @{ $r->{h}{'x-empty'} || ['missing'] }), '',
         'a header with an empty value is sent');
ok t_cmp($r->{h}{'content-type'}[0], 'text/plain', 'Content-Type is the app\'s');

$r = raw_get('/response?case=latin1');
ok t_cmp($r->{h}{'x-latin'}[0], "caf\xe9", 'header values are sent as latin-1 bytes');

$r = raw_get('/response?case=ctype');
ok t_cmp($r->{h}{'content-type'}[0], 'application/json; charset=utf-8',
         'a Content-Type with parameters is passed unchanged');
ok t_cmp($r->{body}, '{"ok": true}', 'body with that Content-Type');

# --- body forms ---------------------------------------------------------------
$r = raw_get('/response?case=write');
ok t_cmp($r->{body}, 'abcdefghi', 'write() output comes before the iterable\'s');
$r = raw_get('/response?case=write_only');
ok t_cmp($r->{body}, ('0' x 1000) . ('1' x 1000) . ('2' x 1000),
         'a body produced only by write() is sent whole');
$r = raw_get('/response?case=empty_strings');
ok t_cmp($r->{body}, 'ab', 'empty byte strings in the iterable are skipped');
ok t_ok($r->{complete}, 'the response with empty chunks is correctly framed');
$r = raw_get('/response?case=tuple');
ok t_cmp($r->{body}, 'tuple', 'a tuple is an acceptable iterable');

# --- exc_info ---------------------------------------------------------------
$r = raw_get('/response?case=exc_info');
ok t_cmp($r->{status}, 503,
         'start_response with exc_info before any output replaces the status');
ok t_cmp($r->{h}{'x-recovered'}[0], 'yes', 'and replaces the headers');
ok t_cmp($r->{body}, 'recovered', 'and the new body is sent');

# --- HEAD -------------------------------------------------------------------
$r = raw_get('/response?case=headers', 'HEAD');
ok t_cmp($r->{status}, 200, 'HEAD gets the GET status');
ok t_cmp($r->{h}{'x-server'}[0], 'MyDemo_app', 'HEAD gets the headers');
ok t_cmp($r->{body}, '', 'HEAD gets no body');

# --- 204 / 304 ----------------------------------------------------------------
$r = raw_get('/response?case=no_content');
ok t_cmp($r->{status}, 204, '204 No Content is sent');
ok t_cmp($r->{raw}, qr/\r\n\r\n\z/, '204 has nothing after the headers');
$r = raw_get('/response?case=not_modified');
ok t_cmp($r->{status}, 304, '304 Not Modified is sent');
ok t_cmp($r->{raw}, qr/\r\n\r\n\z/, '304 has nothing after the headers');

# --- close() is called exactly once --------------------------------------------
my $logs = logs_dir();
sub close_lines {
    my $token = shift;
    open my $fh, '<', "$logs/close-$token.log" or return ();
    return <$fh>;
}
sub settled_close_count {
    my $token = shift;
    wait_until(sub { my @l = close_lines($token); scalar @l }, 15);
    Time::HiRes::sleep(0.5);    # a second call would come right after
    my @lines = close_lines($token);
    return scalar @lines;
}

my $token = "ok$$";
$r = raw_get("/close?token=$token&mode=ok");
ok t_cmp($r->{body}, 'onetwo', 'the iterable with close() is sent');
ok t_cmp(settled_close_count($token), 1, 'close() is called once after a complete response');

$token = "head$$";
$r = raw_get("/close?token=$token&mode=ok", 'HEAD');
ok t_cmp(settled_close_count($token), 1, 'close() is called once for HEAD');

$token = "err$$";
$r = raw_get("/close?token=$token&mode=error");
ok t_cmp(settled_close_count($token), 1,
         'close() is called once when iteration raises');
ok t_ok(!($r->{status} == 200 && $r->{complete} && $r->{body} eq 'partial'),
   'an iteration error does not look like a complete 200 response');

$token = "gone$$";
{
    my $sock = raw_connect();
    print $sock "GET /close?token=$token&mode=slow HTTP/1.1\r\n"
              . "Host: localhost:$port\r\nConnection: close\r\n\r\n";
    my $got = '';
    while (length($got) < 100_000) {
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $got .= $buf;
    }
    ok t_cmp(substr($got, 0, 12), 'HTTP/1.1 200', 'the slow body starts');
    close $sock;    # the client goes away mid-body
}
ok t_cmp(settled_close_count($token), 1,
         'close() is called once when the client disconnects mid-body');
my ($line) = close_lines($token);
my ($sent) = ($line // '') =~ /closed after (\d+)/;
ok t_ok(defined $sent && $sent < 2000,
   'iteration stops early after the client disconnects (not all 2000 chunks)');

# --- the server is fine afterwards ---------------------------------------------
ok t_cmp(GET_BODY('/hello'), 'Hello World', 'the server answers after a client disconnect');

# --- chunked framing / Content-Length -------------------------------------------
$r = raw_get('/gen?n=3');
ok t_cmp($r->{body}, '00000000|00000001|00000002|',
         'a generator app (start_response on first next()) works');
ok t_ok($r->{complete}, 'a body without Content-Length is correctly framed');
$r = raw_get('/hello');
ok t_cmp(join(',', @{ $r->{h}{'content-length'} || [] }), '11',
         'a one-element list gets one Content-Length, and it is right');

# HTTP/1.0 client: no chunked encoding, body delimited by close.
$r = raw_request("GET /gen?n=2 HTTP/1.0\r\n\r\n");
ok t_ok(!grep(/chunked/i, @{ $r->{h}{'transfer-encoding'} || [] }),
   'no chunked encoding for an HTTP/1.0 client');
ok t_cmp($r->{body}, '00000000|00000001|', 'HTTP/1.0 client gets the whole body');

# Nothing may follow a response body on the connection.
$r = raw_get('/hello');
ok t_cmp($r->{extra} // '', '', 'nothing is sent after a Content-Length body');
$r = raw_get('/response?case=created');
ok t_cmp($r->{raw}, qr/\r\n0\r\n\r\n\z|\r\n\r\nmade\z/,
         'nothing is sent after the end of a body without Content-Length');

# Keep-alive: several responses on one connection.
{
    my $sock = raw_connect();
    my $req = "GET /response?case=created HTTP/1.1\r\nHost: localhost:$port\r\n\r\n";
    print $sock $req x 2, "GET /gen?n=2 HTTP/1.1\r\nHost: localhost:$port\r\nConnection: close\r\n\r\n";
    local $/;
    my $all = <$sock>;
    # A body need not end in a newline, so a status line may follow it
    # directly: match status lines anywhere, not only at line starts.
    my @statuses = $all =~ m{HTTP/1\.1 (\d\d\d) }g;
    ok t_cmp("@statuses", '201 201 200', 'three keep-alive responses on one connection');
}
