use strict; use warnings FATAL => 'all';
use Apache::Test; use Apache::TestRequest;
plan tests => 2, need_module 'mod_wsgi_lite.c';
ok 1;
ok t_cmp(GET('/nonexistent')->code, 404, 'smoke 404');
