# proxy.t: WSGITrustedProxyHeaders and WSGITrustedProxies.  From a trusted
# peer (the test client, 127.0.0.1) X-Forwarded-For sets REMOTE_ADDR (the
# nearest untrusted hop from the right), X-Forwarded-Proto sets
# wsgi.url_scheme and X-Forwarded-Host sets HTTP_HOST.  From an untrusted
# peer none is honoured and every proxy header is removed from the environ;
# so is a proxy header not listed in WSGITrustedProxyHeaders.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok get_json test_port raw_request decode_json_body);

plan tests => 30, need_module 'mod_wsgi_lite.c';

my $port = test_port();
my @fwd = ('X-Forwarded-For' => '198.51.100.1, 203.0.113.7, 10.1.2.3',
           'X-Forwarded-Proto' => 'https',
           'X-Forwarded-Host' => 'proxied.example:8443',
           'X-Real-IP' => '192.0.2.99',
           'X-Forwarded-Server' => 'front.example');

sub env { (get_json(@_)->{environ}) || {} }
sub fwd_keys { join ',', sort grep /^HTTP_X_(?:FORWARDED|REAL|CLIENT|SCRIPT)/, keys %{ $_[0] } }

# --- trusted peer -----------------------------------------------------------------
my $e = env('/proxy/trusted', @fwd);
ok t_cmp($e->{REMOTE_ADDR}, '203.0.113.7',
         'trusted: REMOTE_ADDR is the nearest untrusted X-Forwarded-For hop from the right');
ok t_cmp($e->{'wsgi.url_scheme'}, 'https', 'trusted: X-Forwarded-Proto https sets wsgi.url_scheme');
ok t_cmp($e->{HTTP_HOST}, 'proxied.example:8443', 'trusted: X-Forwarded-Host sets HTTP_HOST');
ok t_ok(!exists $e->{HTTP_X_REAL_IP}, 'trusted: X-Real-IP (not listed) is removed');
ok t_ok(!exists $e->{HTTP_X_FORWARDED_SERVER}, 'trusted: X-Forwarded-Server (not listed) is removed');
ok t_cmp($e->{SERVER_NAME}, 'localhost', 'trusted: the unlisted X-Forwarded-Server does not change SERVER_NAME');

# Header values are latin-1 (PEP 3333 native strings): a byte above 0x7f
# reaches the app as that one character, not mangled by a round trip
# through another codec.
$e = env('/proxy/trusted', 'X-Forwarded-Host' => "caf\xe9.example");
ok t_cmp($e->{HTTP_HOST}, "caf\x{e9}.example",
         'trusted: X-Forwarded-Host with a latin-1 byte (0xe9) reaches HTTP_HOST as U+00E9');

$e = env('/proxy/trusted', 'X-Forwarded-For' => '203.0.113.9');
ok t_cmp($e->{REMOTE_ADDR}, '203.0.113.9', 'trusted: a single X-Forwarded-For address');
ok t_cmp($e->{'wsgi.url_scheme'} . ' ' . $e->{HTTP_HOST}, "http localhost:$port",
         'trusted: without X-Forwarded-Proto/Host the scheme and host are the real ones');
$e = env('/proxy/trusted', 'X-Forwarded-For' => '10.0.0.5, 127.0.0.1');
ok t_cmp($e->{REMOTE_ADDR}, '10.0.0.5',
         'trusted: all hops trusted, the leftmost is the client');
$e = env('/proxy/trusted', 'X-Forwarded-Proto' => 'http');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http', 'trusted: X-Forwarded-Proto http');
$e = env('/proxy/trusted', 'X-Forwarded-Proto' => 'gopher');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http', 'trusted: an unknown X-Forwarded-Proto is ignored');

# The rules on a chain of hops and on lists, applied to the header's bytes.
$e = env('/proxy/trusted', 'X-Forwarded-For' => '198.51.100.1, unknown, 10.0.0.1, 10.0.0.2');
ok t_cmp($e->{REMOTE_ADDR}, 'unknown',
         'trusted: a hop that is no IP literal is never a trusted proxy: it is the client');
$e = env('/proxy/trusted', 'X-Forwarded-For' => "203.0.113.20,	10.0.0.9 ,10.1.1.1");
ok t_cmp($e->{REMOTE_ADDR}, '203.0.113.20',
         'trusted: hops separated by commas, spaces and tabs; every trusted hop skipped');
$e = env('/proxy/trusted', 'X-Forwarded-Host' => 'first.example, second.example');
ok t_cmp($e->{HTTP_HOST}, 'first.example',
         'trusted: X-Forwarded-Host with a list sets HTTP_HOST to its first host');
ok t_cmp($e->{HTTP_X_FORWARDED_HOST}, 'first.example, second.example',
         'trusted: the listed X-Forwarded-Host stays in the environ as it came');
my $res = raw_request("GET /proxy/trusted HTTP/1.1\r\nHost: localhost:$port\r\n"
                      . "X-Forwarded-For: 198.51.100.30\r\nX-Forwarded-For: 10.0.0.4\r\n"
                      . "Connection: close\r\n\r\n");
$e = decode_json_body($res, 'two X-Forwarded-For')->{environ} || {};
ok t_cmp($e->{REMOTE_ADDR}, '198.51.100.30',
         'trusted: two X-Forwarded-For headers are read as one chain');
$res = raw_request("GET /proxy/trusted HTTP/1.0\r\nX-Forwarded-Host: h10.example\r\n\r\n");
$e = decode_json_body($res, 'HTTP/1.0 X-Forwarded-Host')->{environ} || {};
ok t_cmp($e->{HTTP_HOST}, 'h10.example',
         'trusted: an HTTP/1.0 request without Host gets HTTP_HOST from X-Forwarded-Host');
$e = env('/proxy/trusted');
ok t_ok(exists $e->{REQUEST_METHOD} && !exists $e->{HTTP_X_REAL_IP},
        'trusted: a proxy variable given by SetEnv (HTTP_X_REAL_IP), not listed, is removed');

# --- untrusted peer ----------------------------------------------------------------
$e = env('/proxy/untrusted', @fwd);
ok t_cmp($e->{REMOTE_ADDR}, '127.0.0.1', 'untrusted peer: REMOTE_ADDR stays the real client');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http', 'untrusted peer: wsgi.url_scheme stays http');
ok t_cmp($e->{HTTP_HOST}, "localhost:$port", 'untrusted peer: HTTP_HOST stays the Host header');
ok t_cmp(fwd_keys($e), '', 'untrusted peer: no HTTP_X_FORWARDED_* / X_REAL_IP key in the environ');
ok t_ok(exists $e->{REQUEST_METHOD}, '(setup) the untrusted request was answered');

# --- no WSGITrustedProxies: any peer ------------------------------------------------
$e = env('/proxy/anypeer', 'X-Forwarded-For' => '198.51.100.1, 203.0.113.7',
         'X-Forwarded-Proto' => 'https', 'X-Forwarded-Host' => 'x.example');
ok t_cmp($e->{'wsgi.url_scheme'}, 'https', 'no WSGITrustedProxies: any peer is trusted');
ok t_cmp($e->{REMOTE_ADDR}, '198.51.100.1',
         'no WSGITrustedProxies: REMOTE_ADDR is the leftmost X-Forwarded-For address');
ok t_cmp($e->{HTTP_HOST}, "localhost:$port", 'X-Forwarded-Host not listed: HTTP_HOST unchanged');
ok t_ok(!exists $e->{HTTP_X_FORWARDED_HOST}, 'X-Forwarded-Host not listed: removed');

# --- without the directives: ordinary headers ---------------------------------------
$e = env('/environ', @fwd);
ok t_cmp($e->{HTTP_X_FORWARDED_FOR} . ' ' . $e->{REMOTE_ADDR},
         '198.51.100.1, 203.0.113.7, 10.1.2.3 127.0.0.1',
         'no WSGITrustedProxyHeaders: X-Forwarded-For is an ordinary header');
ok t_cmp($e->{'wsgi.url_scheme'}, 'http', 'no WSGITrustedProxyHeaders: the scheme is unchanged');
