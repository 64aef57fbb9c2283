# config.t: the directives.  AddHandler/SetHandler (with and without
# ExecCGI), WSGICallableObject per Directory, Location, .htaccess and
# VirtualHost, WSGIPythonPath, WSGIPassAuthorization, WSGIChunkedRequest,
# WSGIApplicationGroup, and configtest failures for bad arguments.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use File::Temp ();
use MIME::Base64 ();
use WSLTest qw(t_ok get_json raw_request decode_json_body test_port random_bytes);
use Digest::SHA ();

my @bad_configs = (
    # [ description, config text, directive the message must name ]
    ['WSGIPassAuthorization Maybe', "WSGIPassAuthorization Maybe\n", 'WSGIPassAuthorization'],
    ['WSGIChunkedRequest Perhaps', "WSGIChunkedRequest Perhaps\n", 'WSGIChunkedRequest'],
    ['WSGIScriptAlias with one argument', "WSGIScriptAlias /only\n", 'WSGIScriptAlias'],
    ['WSGIScriptAlias without arguments', "WSGIScriptAlias\n", 'WSGIScriptAlias'],
    ['WSGIApplicationGroup without an argument', "WSGIApplicationGroup\n", 'WSGIApplicationGroup'],
    ['WSGIApplicationGroup with two arguments', "WSGIApplicationGroup a b\n", 'WSGIApplicationGroup'],
    ['WSGICallableObject without an argument', "WSGICallableObject\n", 'WSGICallableObject'],
    ['WSGIPythonPath inside a VirtualHost',
        "<VirtualHost *:80>\n    WSGIPythonPath /tmp\n</VirtualHost>\n", 'WSGIPythonPath'],
    ['WSGIScriptAlias inside a Directory',
        "<Directory /tmp>\n    WSGIScriptAlias /x /tmp/x.wsgi\n</Directory>\n", 'WSGIScriptAlias'],
);

plan tests => 44 + 2 * @bad_configs, need_module 'mod_wsgi_lite.c';

my $port = test_port();

# --- handlers -------------------------------------------------------------------
ok t_cmp(GET_BODY('/handler/hello.wsgi'), 'Hello World',
         'AddHandler wsgi-script .wsgi with Options +ExecCGI runs the script');
ok t_cmp(GET_BODY('/handler/static.txt'), "static file\n",
         'AddHandler leaves other files to the default handler');
ok t_cmp(GET_BODY('/sethandler/hello.wsgi'), 'Hello World',
         'SetHandler wsgi-script with Options +ExecCGI runs the script');
my $r = GET('/handler/hello.wsgi/extra/path');
ok t_cmp($r->content, 'Hello World', 'AddHandler script with path info runs');
my $noexec = GET('/noexec/hello.wsgi');
ok t_cmp($noexec->code, 403, 'AddHandler without Options ExecCGI is refused with 403');
ok t_cmp($noexec->content, qr/^(?!Hello World)/, 'the script does not run without ExecCGI');
ok t_cmp(GET_BODY('/hello'), 'Hello World',
         'WSGIScriptAlias does not need Options ExecCGI');

# --- WSGICallableObject ---------------------------------------------------------
ok t_cmp(GET_BODY('/callable_default'), 'application application',
         'WSGICallableObject defaults to "application"');
ok t_cmp(GET_BODY('/callable_loc'), 'app_loc app_loc',
         'WSGICallableObject in a <Location>');
ok t_cmp(GET_BODY('/callable_dir/callables.wsgi'), 'app_dir app_dir',
         'WSGICallableObject in a <Directory>');
ok t_cmp(GET_BODY('/htaccess/callables.wsgi'), 'app_htaccess app_htaccess',
         'WSGICallableObject in .htaccess (AllowOverride FileInfo)');
Apache::TestRequest::module('wsl_vhost_callable');
ok t_cmp(GET_BODY('/callables'), 'app_vhost app_vhost',
         'WSGICallableObject in a <VirtualHost>');
Apache::TestRequest::module('default');
ok t_cmp(GET_BODY('/tutorial/class'), 'Hello World',
         'WSGICallableObject can name a class (the tutorial\'s Application)');

# --- script reloading (mod_wsgi_lite.script_reloading '1') --------------------------
# Load version 1 in as many processes as the requests reach, then replace
# the file (newer mtime): every process must serve version 2.
{
    my $file = Apache::Test::vars('documentroot') . '/handler/reload.wsgi';
    my $write = sub {
        my ($version, $mtime) = @_;
        open my $fh, '>', $file or die "$file: $!";
        print $fh "def application(environ, start_response):\n"
                . "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                . "    return [b'version $version']\n";
        close $fh;
        utime $mtime, $mtime, $file;
    };
    $write->(1, time - 100);
    my %v1 = map { (GET_BODY('/handler/reload.wsgi') => 1) } 1 .. 24;
    $write->(2, time);
    my %v2 = map { (GET_BODY('/handler/reload.wsgi') => 1) } 1 .. 24;
    ok t_cmp(join(',', sort keys %v1), 'version 1', '(setup) version 1 of the script is served');
    ok t_cmp(join(',', sort keys %v2), 'version 2',
             'a changed script file is reloaded in every process');
}

# --- WSGIPythonPath -------------------------------------------------------------
my $pp = get_json('/pythonpath');
ok t_cmp($pp->{pathmod}, 'from WSGIPythonPath',
         'WSGIPythonPath directory is importable');
ok t_cmp($pp->{pthmod}, 'from a .pth file',
         'WSGIPythonPath uses site.addsitedir (.pth files are processed)');
my $pylib = Apache::Test::vars('serverroot') . '/pylib';
ok t_cmp(scalar(grep { $_ eq $pylib } @{ $pp->{sys_path} || [] }), 1,
         'the WSGIPythonPath directory is on sys.path once');

# --- WSGIPassAuthorization --------------------------------------------------------
my $auth = 'Basic ' . MIME::Base64::encode_base64('user:secret', '');
my $e = get_json('/environ', Authorization => $auth)->{environ} || {};
ok t_ok(exists $e->{REQUEST_METHOD} && !exists $e->{HTTP_AUTHORIZATION},
   'WSGIPassAuthorization defaults to Off: no HTTP_AUTHORIZATION');
$e = get_json('/auth_off', Authorization => $auth)->{environ} || {};
ok t_ok(exists $e->{REQUEST_METHOD} && !exists $e->{HTTP_AUTHORIZATION},
   'WSGIPassAuthorization Off: no HTTP_AUTHORIZATION');
$e = get_json('/auth_on', Authorization => $auth)->{environ} || {};
ok t_cmp($e->{HTTP_AUTHORIZATION}, $auth,
         'WSGIPassAuthorization On: HTTP_AUTHORIZATION is the header');

# --- WSGIChunkedRequest -----------------------------------------------------------
sub chunked_post {
    my ($path, @chunks) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: localhost:$port\r\n"
            . "Content-Type: application/octet-stream\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    $req .= sprintf("%x\r\n%s\r\n", length $_, $_) for @chunks;
    $req .= "0\r\n\r\n";
    return raw_request($req);
}
my @chunks = ('hello ', 'chunked ', 'world');
$r = chunked_post('/chunked_on', @chunks);
ok t_cmp($r->{status}, 200, 'WSGIChunkedRequest On: a chunked body is accepted');
my $j = decode_json_body($r, 'chunked_on');
ok t_cmp($j->{length}, 19, 'WSGIChunkedRequest On: the whole chunked body is read');
ok t_cmp($j->{sha256}, Digest::SHA::sha256_hex(join '', @chunks),
         'WSGIChunkedRequest On: the chunked body arrives intact');
ok t_ok(!defined $j->{content_length} || $j->{content_length} eq '',
   'WSGIChunkedRequest On: no CONTENT_LENGTH for a chunked body');
$r = chunked_post('/chunked_off', @chunks);
ok t_cmp($r->{status}, 411, 'WSGIChunkedRequest Off: a chunked body gets 411');
$r = chunked_post('/echo_sha', @chunks);
ok t_cmp($r->{status}, 411, 'WSGIChunkedRequest unset: a chunked body gets 411');
$r = raw_request("POST /chunked_off HTTP/1.1\r\nHost: localhost:$port\r\n"
                 . "Content-Length: 5\r\nConnection: close\r\n\r\nabcde");
ok t_cmp(decode_json_body($r, 'chunked_off CL')->{length}, 5,
         'WSGIChunkedRequest Off still accepts a Content-Length body');

# --- WSGIApplicationGroup ---------------------------------------------------------
# group.wsgi keeps a value in module wsl_shared of its interpreter.  Store a
# token through /grp_a1 (group wsl-group-a) and /grp_glob_one (%{GLOBAL}) in
# as many processes as the requests reach, then read it back through other
# URLs: in a process that stored it, /grp_a2 (same group) must see it and
# /grp_b (another group) must not.  Fresh connections, compared by pid, so
# this holds under any MPM and any keep-alive behaviour.
my $token = "tok$$";
my (%set_a, %set_g, @a1, @g1);
for (1 .. 24) {
    my $j = get_json("/grp_a1?set=$token-a");
    push @a1, $j;
    $set_a{ $j->{pid} } = 1 if defined $j->{pid};
    $j = get_json("/grp_glob_one?set=$token-g");
    push @g1, $j;
    $set_g{ $j->{pid} } = 1 if defined $j->{pid};
}
sub in_stored {
    my ($url, $stored) = @_;
    my @seen;
    for (1 .. 24) {
        my $j = get_json($url);
        push @seen, $j if defined $j->{pid} && $stored->{ $j->{pid} };
    }
    return @seen;
}
my @a2 = in_stored('/grp_a2', \%set_a);
my @b  = in_stored('/grp_b', \%set_a);
my @g2 = in_stored('/grp_glob_two', \%set_g);
my @ga = in_stored('/grp_a2', \%set_g);
ok t_ok(@a2 && @b && @g2, '(setup) the read-back requests reached processes that stored the token');
ok t_cmp($a1[0]{group}, 'wsl-group-a', 'WSGIApplicationGroup name: the group key is the name');
ok t_cmp(join(',', map { $_->{value} // 'None' } @a2), join(',', ("$token-a") x @a2),
         'two URLs in the same named group share an interpreter');
ok t_cmp($b[0]{group}, 'wsl-group-b', 'a second named group');
ok t_cmp(scalar(grep { ($_->{value} // '') =~ /^\Q$token\E/ } @b), 0,
         'a different named group has its own interpreter (module state not shared)');
ok t_cmp($g1[0]{group}, '', 'WSGIApplicationGroup %{GLOBAL}: the group key is empty');
ok t_cmp(join(',', map { $_->{value} // 'None' } @g2), join(',', ("$token-g") x @g2),
         '%{GLOBAL} URLs share the main interpreter');
ok t_cmp(scalar(grep { ($_->{value} // '') eq "$token-g" } @ga), 0,
         'a named group does not see the %{GLOBAL} interpreter\'s state');
my %by_pid;    # pid => group => { sys_id => 1 }
for my $j (grep { defined $_->{pid} } @a1, @a2, @b, @g1, @g2) {
    $by_pid{ $j->{pid} }{ $j->{group} }{ $j->{sys_id} } = 1;
}
my ($pairs, $distinct) = (0, 0);
for my $groups (values %by_pid) {
    next unless keys %$groups >= 2;
    $pairs++;
    my @ids = map { keys %$_ } values %$groups;
    my %u = map { $_ => 1 } @ids;
    $distinct++ if keys(%u) == keys(%$groups) && @ids == keys(%$groups);
}
ok t_ok($pairs && $pairs == $distinct,
        'within a process each group has its own, stable sys module');
my $s = get_json('/grp_server');
ok t_cmp($s->{group}, "localhost:$port", 'WSGIApplicationGroup %{SERVER}: host:port');
my $res = get_json('/grp_resource');
ok t_cmp($res->{group}, "localhost:$port|/grp_resource",
         'no WSGIApplicationGroup: %{RESOURCE}, host:port|SCRIPT_NAME');

# --- the test server itself -------------------------------------------------------
# Debian enables mod_wsgi; two modules embedding libpython must never share
# a process, so t/TEST.PL must not have inherited it.  And the MPM must be
# the one this run asked for.
{
    my $conf = Apache::Test::vars('t_conf_file');
    open my $fh, '<', $conf or die "$conf: $!";
    my @load = grep /^\s*LoadModule\s/, <$fh>;
    close $fh;
    ok t_cmp(scalar(grep /\bwsgi_module\b|mod_wsgi\.so/, @load), 0,
             'the system mod_wsgi is not loaded into the test server');
    ok t_cmp(scalar(grep /\bwsgi_lite_module\b/, @load), 1,
             'mod_wsgi_lite is loaded once');
    my @mpms = map { /mpm_(\w+)_module/ ? $1 : () } @load;
    ok t_cmp("@mpms", WSLTest::expected_mpm(), 'exactly the requested MPM is loaded');
}

# --- configtest -------------------------------------------------------------------
my $httpd = Apache::Test::vars('httpd');
my $so = Apache::Test::config()->{modules}{'mod_wsgi_lite.c'};
my $libexec = Apache::Test::config()->apxs('LIBEXECDIR', 1) || '/usr/lib/apache2/modules';
my $docroot = Apache::Test::vars('documentroot');

sub configtest {
    my $snippet = shift;
    my $dir = File::Temp->newdir('wsl-configtest-XXXXXX', TMPDIR => 1);
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<"CONF";
ServerRoot "$dir"
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
ServerName localhost
Listen 127.0.0.1:65000
LoadModule mpm_prefork_module "$libexec/mod_mpm_prefork.so"
LoadModule authz_core_module "$libexec/mod_authz_core.so"
LoadModule wsgi_lite_module "$so"
$snippet
CONF
    close $fh;
    my $out = `"$httpd" -t -f "$conf" 2>&1`;
    my $rc = $? >> 8;
    return ($rc, $out);
}

my ($rc, $out) = configtest(<<"GOOD");
WSGIPythonPath /tmp
WSGIScriptAlias /ok "$docroot/wsgi/hello.wsgi"
WSGIPassAuthorization On
WSGIChunkedRequest Off
WSGICallableObject app
WSGIApplicationGroup %{GLOBAL}
<Location /x>
    WSGIApplicationGroup %{RESOURCE}
    WSGIPassAuthorization off
</Location>
<VirtualHost *:65000>
    WSGIScriptAlias / "$docroot/wsgi/hello.wsgi"
    WSGIApplicationGroup %{SERVER}
</VirtualHost>
GOOD
ok t_cmp($rc, 0, '(control) a valid configuration passes configtest');
ok t_cmp($out, qr/Syntax OK/, '(control) configtest says Syntax OK') or t_debug($out);

for my $bad (@bad_configs) {
    my ($name, $snippet, $directive) = @$bad;
    ($rc, $out) = configtest($snippet);
    ok t_ok($rc != 0, "configtest fails for $name");
    ok t_cmp($out, qr/\Q$directive\E/, "the configtest message for $name names $directive");
}
