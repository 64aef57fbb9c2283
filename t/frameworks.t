# frameworks.t: real frameworks from Debian (python3-flask, python3-django)
# served through the module, mounted below a prefix (SCRIPT_NAME).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use JSON::PP ();
use WSLTest qw(need_debian_python);

plan tests => 20, need need_module('mod_wsgi_lite.c'),
    need_debian_python('frameworks.t (python3-flask, python3-django)');

sub json { my $c = shift; eval { JSON::PP::decode_json($c) } || {} }

# --- Flask ----------------------------------------------------------------------
my $res = GET('/flask/');
ok t_cmp($res->code, 200, 'Flask: GET / is 200');
ok t_cmp($res->content, 'flask index', 'Flask: index view');
ok t_cmp(GET_BODY('/flask/hello/apache'), 'Hello, apache!', 'Flask: route with a variable');
ok t_cmp(GET_BODY('/flask/link'), '/flask/hello/wsgi',
         'Flask: url_for includes the mount point (SCRIPT_NAME)');
$res = POST('/flask/form', [a => 'one', b => 'two & three']);
ok t_cmp($res->content, 'form a=one b=two & three', 'Flask: POST form data');
$res = POST('/flask/json', content => '{"x": 21}', 'Content-Type' => 'application/json');
ok t_cmp(json($res->content)->{doubled}, 42, 'Flask: POST JSON');
ok t_cmp(json(GET_BODY('/flask/query?a=1&a=2&b=%C3%A9'))->{args},
         {a => ['1', '2'], b => ["\x{e9}"]}, 'Flask: query string arguments');
$res = GET('/flask/no/such/page');
ok t_cmp($res->code, 404, 'Flask: unknown URL is the framework\'s 404');
ok t_cmp($res->content, qr/Not Found/, 'Flask: 404 page from Flask');
$res = GET('/flask/form');
ok t_cmp($res->code, 405, 'Flask: GET on a POST-only route is 405');

# --- Django ---------------------------------------------------------------------
$res = GET('/django/');
ok t_cmp($res->code, 200, 'Django: GET / is 200');
ok t_cmp($res->content, 'django index', 'Django: index view');
ok t_cmp(GET_BODY('/django/hello/apache/'), 'Hello, apache!', 'Django: path converter');
ok t_cmp(GET_BODY('/django/link/'), '/django/hello/wsgi/',
         'Django: reverse() includes the mount point (SCRIPT_NAME)');
$res = POST('/django/form/', [a => 'one', b => 'two']);
ok t_cmp($res->content, 'form a=one b=two', 'Django: POST form data');
$res = POST('/django/json/', content => '{"x": 4}', 'Content-Type' => 'application/json');
ok t_cmp(json($res->content)->{doubled}, 8, 'Django: POST JSON');
$res = GET('/django/no/such/page/');
ok t_cmp($res->code, 404, 'Django: unknown URL is the framework\'s 404');
ok t_cmp($res->content, qr/Not Found/, 'Django: 404 page from Django');
$res = GET('/django/hello/apache', redirect_ok => 0);
ok t_cmp($res->code, 301, 'Django: APPEND_SLASH redirects a URL without its slash');
ok t_cmp($res->header('Location') // '', qr{/django/hello/apache/$},
         'Django: the redirect keeps the mount point');
