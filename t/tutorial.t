# tutorial.t: the examples of the seed WSGI tutorial
# (/work/shared/seed-wsgi-tutorial.md), served through the module: a
# function, a class whose instances are the iterable, a callable instance,
# a custom X-Server header, an HTML page and wsgiref's demo_app; and the
# tutorial's own test commands, curl -I and curl -X POST -d '{"x":2}'.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok test_port);

plan tests => 26, need_module 'mod_wsgi_lite.c';

my $port = test_port();
my $base = "http://localhost:$port";

for my $case (['/tutorial/function', 'a function (1. 函数实现)'],
              ['/tutorial/class', 'a class, the instance is the iterable (2. 类实现)'],
              ['/tutorial/instance', 'a callable instance (3. 可调用对象)']) {
    my ($url, $name) = @$case;
    my $res = GET($url);
    ok t_cmp($res->code, 200, "$name: 200");
    ok t_cmp($res->content, 'Hello World', "$name: Hello World");
    ok t_cmp($res->header('Content-Type'), 'text/plain; charset=utf-8',
             "$name: Content-Type");
}

my $res = GET('/tutorial/header');
ok t_cmp($res->header('X-Server'), 'MyDemo_app', 'custom header X-Server: MyDemo_app');
ok t_cmp($res->content, 'Hello World', 'custom header example body');

$res = GET('/tutorial/html');
ok t_cmp($res->header('Content-Type'), 'text/html;charset=utf-8', 'HTML page: Content-Type');
ok t_cmp($res->content, '<h1>Hello World</h1>', 'HTML page: body');

$res = GET('/tutorial/demo/xxx?id=5', 'User-Agent' => 'wsl-tutorial');
my $body = $res->content;
ok t_cmp($body, qr/\AHello world!\n\n/, 'demo_app: starts with "Hello world!" and a blank line');
ok t_cmp($body, qr/^PATH_INFO = '\/xxx'$/m, 'demo_app: PATH_INFO line');
ok t_cmp($body, qr/^QUERY_STRING = 'id=5'$/m, 'demo_app: QUERY_STRING line');
ok t_cmp($body, qr/^REQUEST_METHOD = 'GET'$/m, 'demo_app: REQUEST_METHOD line');
ok t_cmp($body, qr/^HTTP_USER_AGENT = 'wsl-tutorial'$/m, 'demo_app: HTTP_USER_AGENT line');
ok t_cmp($body, qr/^wsgi\.version = \(1, 0\)$/m, 'demo_app: wsgi.version = (1, 0)');
my @keys = $body =~ /^(\S+) = /mg;
ok t_ok(@keys >= 20 && "@keys" eq join(' ', sort @keys),
        'demo_app: the environ\'s keys (' . scalar(@keys) . ') are listed, sorted')
    or t_debug("keys: @keys");

# The tutorial's commands, with curl itself.
my $curl = -x '/usr/bin/curl' ? '/usr/bin/curl' : undef;
SKIP: {
    # Test.pm's skip() records one test and returns: skip each, then leave.
    unless ($curl) {
        skip('curl not installed', 0) for 1 .. 6;
        last SKIP;
    }
    my $head = `$curl -sS -I '$base/tutorial/function/xxx?id=5' 2>&1`;
    ok t_cmp($head, qr{\AHTTP/1\.1 200 OK\r?\n}, 'curl -I: 200 OK');
    ok t_cmp($head, qr{^Content-Type: text/plain; charset=utf-8\r?$}mi, 'curl -I: Content-Type');
    ok t_cmp($head, qr/^(?!.*Hello World)/s, 'curl -I: no body');

    my $post = `$curl -sS -X POST '$base/tutorial/demo/yyy' -d '{"x":2}' 2>&1`;
    ok t_cmp($post, qr/^REQUEST_METHOD = 'POST'$/m, 'curl -X POST -d: REQUEST_METHOD');
    ok t_cmp($post, qr/^CONTENT_LENGTH = '7'$/m, 'curl -X POST -d \'{"x":2}\': CONTENT_LENGTH 7');
    ok t_cmp($post, qr/^CONTENT_TYPE = 'application\/x-www-form-urlencoded'$/m,
             'curl -d: CONTENT_TYPE is curl\'s form type');
}
