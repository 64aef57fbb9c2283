# auth.t: Apache's access control decided by Python, with mod_wsgi's
# directives and signatures: WSGIAuthUserScript behind AuthBasicProvider
# and AuthDigestProvider wsgi, WSGIAuthGroupScript with Require
# wsgi-group, WSGIGroupAuthoritative, WSGIAccessScript, WSGIDispatchScript
# and WSGIPassApacheRequest.  One check protects a static file and a WSGI
# application alike; a failing or ill-typed script never grants.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use MIME::Base64 ();
use WSLTest qw(t_ok safe log_during wsgi_log_entries decode_json_body
               daemon_mode);
use WSLServer ();

# [ description, config text, what the configtest message must say ]
my @bad_configs = (
    ['WSGIAuthUserScript outside a directory context',
        "WSGIAuthUserScript /y.wsgi\n", qr/WSGIAuthUserScript not allowed here/],
    ['WSGIAccessScript without a path',
        "<Location /x>\n    WSGIAccessScript\n</Location>\n", qr/WSGIAccessScript/],
    ['WSGIAuthGroupScript with bogus=1',
        "<Location /x>\n    WSGIAuthGroupScript /y.wsgi bogus=1\n</Location>\n",
        qr/WSGIAuthGroupScript: unknown option 'bogus=1'/],
    ['WSGIDispatchScript application-group=%{BOGUS}',
        "WSGIDispatchScript /y.wsgi application-group=%{BOGUS}\n",
        qr/WSGIDispatchScript: unknown '%\{BOGUS\}'/],
    ['WSGIGroupAuthoritative Maybe',
        "<Location /x>\n    WSGIGroupAuthoritative Maybe\n</Location>\n",
        qr/WSGIGroupAuthoritative/],
    ['WSGIPassApacheRequest Maybe',
        "WSGIPassApacheRequest Maybe\n", qr/WSGIPassApacheRequest/],
);

plan tests => 97 + 2 * @bad_configs, need_module 'mod_wsgi_lite.c';

# One request with credentials sent up front (no challenge round trip).
sub basic {
    my ($url, $user, $password, @headers) = @_;
    my @auth = defined $user
        ? (Authorization => 'Basic '
           . MIME::Base64::encode_base64("$user:$password", ''))
        : ();
    return safe(sub { GET($url, @auth, @headers) });
}

# A request answered after a Digest challenge (LWP computes the response).
sub digest {
    my ($url, $user, $password) = @_;
    return safe(sub { GET($url, username => $user, password => $password) });
}

sub log_text { join '', @_ }

# --- Basic: static file and WSGI app behind one check ------------------
for my $url ('/auth/basic/secret.txt', '/auth/basic/app') {
    my $res = basic($url);
    ok t_cmp($res->code, 401, "Basic $url: no credentials gives 401");
    ok t_cmp(scalar $res->header('WWW-Authenticate'),
             'Basic realm="wsl-basic"',
             "Basic $url: the 401 carries WWW-Authenticate");
    $res = basic($url, 'alice', 'secret');
    ok t_cmp($res->code, 200, "Basic $url: check_password True gives 200");
    my @log;
    @log = log_during(sub { $res = basic($url, 'alice', 'wrong') },
                      want => qr/AH01617/);
    ok t_cmp($res->code, 401, "Basic $url: check_password False gives 401");
    ok t_cmp(log_text(@log), qr/user alice: authentication failure/,
             "Basic $url: the wrong password is logged");
    @log = log_during(sub { $res = basic($url, 'nobody', 'x') },
                      want => qr/AH01618/);
    ok t_cmp($res->code, 401, "Basic $url: check_password None gives 401");
    ok t_cmp(log_text(@log), qr/user nobody not found/,
             "Basic $url: the unknown user is logged");
}
ok t_cmp(basic('/auth/basic/secret.txt', 'alice', 'secret')->content,
         "wsl-secret-basic\n", 'Basic: the static file is served');

my ($app, $res) = (undef, basic('/auth/basic/app', 'bob', 'builder'));
$app = decode_json_body($res, 'basic app');
ok t_cmp($app->{user}, 'bob', 'Basic: the application sees REMOTE_USER');
ok t_cmp($app->{auth_type}, 'Basic', 'Basic: the application sees AUTH_TYPE');
# The request_rec lives in the Apache child: a daemon process has none to
# give (mod_wsgi passes it in embedded mode only too).
ok t_cmp($app->{request_rec}, daemon_mode() ? undef : 'PyCapsule',
         'WSGIPassApacheRequest On: environ["apache.request_rec"] is a capsule'
         . (daemon_mode() ? ' in embedded mode only: none in a daemon' : ''));

$app = decode_json_body(basic('/auth/basic/app', 'alias', 'secret'),
                        'alias');
ok t_cmp($app->{user}, 'alice',
         'check_password returning a str grants and names the user');

# Exceptions and wrong return types: denied (500) and logged once.
for my $case (['boom', qr/RuntimeError: wsl-marker-auth-boom/,
               'an exception'],
              ['weird', qr/WSL00072: check_password\(\).*type 'int'/,
               'an int (not a bool)']) {
    my ($user, $want, $what) = @$case;
    my @log = log_during(sub { $res = basic('/auth/basic/app', $user, 'x') },
                         want => $want);
    ok t_cmp($res->code, 500, "Basic: $what from check_password is a 500");
    ok t_cmp($res->content, qr/^(?!.*wsl-marker)/s,
             "Basic: $what: nothing of it in the response");
    ok t_cmp(scalar(grep /$want/, @log), 1, "Basic: $what is logged once");
}
my @log = log_during(sub { $res = basic('/auth/basic/app', 'boom', 'x') },
                     want => qr/wsl-marker-auth-boom/);
ok t_cmp(log_text(@log), qr/Traceback \(most recent call last\).*users\.wsgi", line \d+, in check_password/s,
         'Basic: the exception is logged with its traceback');
ok t_cmp(log_text(@log), qr/WSL00010: check_password\(\) in the WSGIAuthUserScript '[^']*users\.wsgi' failed for '\/auth\/basic\/app'/,
         'Basic: the entry names the function, the script and the URI');

# The script sees an environ built like the app's, without the body.
@log = log_during(sub { $res = basic('/auth/basic/app', 'env', 'x') },
                  want => qr/wsl-marker-env-check/);
ok t_cmp($res->code, 200,
         'the auth environ has no wsgi.input, has REQUEST_URI, the group '
         . 'and apache.request_rec');
ok t_cmp(log_text(@log), qr/wsl-marker-env-check True/,
         'the auth environ has a working wsgi.errors');

@log = log_during(sub { $res = basic('/auth/named/secret.txt', 'env', 'x',
                                     'X-WSL-Expect-Group' => 'wsl-auth-users') },
                  want => qr/wsl-marker-env-check/);
ok t_cmp($res->code, 200,
         'application-group= runs the auth script in that group');
ok t_cmp(basic('/auth/named/secret.txt', 'env', 'x')->code, 401,
         'the group check in the auth script is real (other group: 401)');

# --- Digest --------------------------------------------------------------
for my $url ('/auth/digest/secret.txt', '/auth/digest/app') {
    $res = safe(sub { GET($url) });
    ok t_cmp($res->code, 401, "Digest $url: no credentials gives 401");
    ok t_cmp(scalar $res->header('WWW-Authenticate'),
             qr/^Digest realm="wsl-digest", nonce="[^"]+"/,
             "Digest $url: the 401 carries a Digest challenge");
    $res = digest($url, 'alice', 'secret');
    ok t_cmp($res->code, 200, "Digest $url: get_realm_hash gives 200");
    @log = log_during(sub { $res = digest($url, 'alice', 'wrong') },
                      want => qr/AH01794/);
    ok t_cmp($res->code, 401, "Digest $url: a wrong password gives 401");
    ok t_cmp(log_text(@log), qr/AH01794.*password mismatch/,
             "Digest $url: the wrong password is logged");
    @log = log_during(sub { $res = digest($url, 'nobody', 'x') },
                      want => qr/AH01790/);
    ok t_cmp($res->code, 401, "Digest $url: get_realm_hash None gives 401");
    ok t_cmp(log_text(@log), qr/AH01790.*nobody.*not found/,
             "Digest $url: the unknown user is logged");
}
ok t_cmp(digest('/auth/digest/secret.txt', 'alice', 'secret')->content,
         "wsl-secret-digest\n", 'Digest: the static file is served');
$app = decode_json_body(digest('/auth/digest/app', 'bob', 'builder'),
                        'digest app');
ok t_cmp("$app->{user} $app->{auth_type}", 'bob Digest',
         'Digest: the application sees REMOTE_USER and AUTH_TYPE');
ok t_cmp($app->{request_rec}, undef,
         'WSGIPassApacheRequest is Off by default');
for my $case (['boom', qr/RuntimeError: wsl-marker-digest-boom/,
               'an exception'],
              ['weird', qr/WSL00072: get_realm_hash\(\).*type 'int'/,
               'an int']) {
    my ($user, $want, $what) = @$case;
    @log = log_during(sub { $res = digest('/auth/digest/app', $user, 'x') },
                      want => $want);
    ok t_cmp($res->code, 500, "Digest: $what from get_realm_hash is a 500");
    ok t_cmp(scalar(grep /$want/, @log), 1, "Digest: $what is logged once");
}

# --- Groups ----------------------------------------------------------------
$res = basic('/auth/group/app');
ok t_cmp($res->code, 401, 'Require wsgi-group: no credentials gives 401');
ok t_cmp(scalar $res->header('WWW-Authenticate'), 'Basic realm="wsl-group"',
         'Require wsgi-group: the 401 carries WWW-Authenticate');
$app = decode_json_body(basic('/auth/group/app', 'alice', 'secret'),
                        'group app');
ok t_cmp($app->{user}, 'alice', 'a member of the group (as bytes) gets in');
ok t_cmp(basic('/auth/group/secret.txt', 'alice', 'secret')->content,
         "wsl-secret-group\n", 'a member gets the static file');
@log = log_during(sub { $res = basic('/auth/group/app', 'bob', 'builder') },
                  want => qr/WSL00075/);
ok t_cmp($res->code, 401, 'a valid user in other groups only is refused');
ok t_cmp(log_text(@log), qr/WSL00075: user 'bob' is in none of the groups 'admins'/,
         'the refusal is logged');
ok t_cmp(basic('/auth/group/app', 'alice', 'wrong')->code, 401,
         'a member with a wrong password is refused');
@log = log_during(sub { $res = basic('/auth/group/app', 'carol', 'c4rol') },
                  want => qr/wsl-marker-group-raise/);
ok t_cmp($res->code, 500, 'an exception in groups_for_user is a 500');
ok t_cmp(scalar(grep /LookupError: wsl-marker-group-raise/, @log), 1,
         'the groups_for_user exception is logged once');
@log = log_during(sub { $res = basic('/auth/group/app', 'dave', 'd4ve') },
                  want => qr/WSL00072/);
ok t_cmp($res->code, 500, 'groups_for_user returning a str is a 500');
ok t_cmp(log_text(@log), qr/WSL00072: groups_for_user\(\).*type 'str'/,
         'the wrong groups_for_user result is logged');

# WSGIGroupAuthoritative: <RequireAll> wsgi-group admins + user alice bob.
ok t_cmp(basic('/auth/group_on/secret.txt', 'alice', 'secret')->code, 200,
         'RequireAll: a member who is also listed gets in');
ok t_cmp(basic('/auth/group_on/secret.txt', 'bob', 'builder')->code, 401,
         'WSGIGroupAuthoritative On (default): not a member denies');
ok t_cmp(basic('/auth/group_off/secret.txt', 'bob', 'builder')->code, 200,
         'WSGIGroupAuthoritative Off: not a member leaves it to Require user');
ok t_cmp(basic('/auth/group_off/secret.txt', 'carol', 'c4rol')->code, 500,
         'WSGIGroupAuthoritative Off: an exception still never grants');

# --- Host access -----------------------------------------------------------
for my $url ('/auth/access/secret.txt', '/auth/access/app') {
    $res = basic($url);
    ok t_cmp($res->code, 200, "access $url: allow_access(environ, host) "
             . "gets the client's address and True allows");
    @log = log_during(sub { $res = basic($url, undef, undef,
                                         'X-WSL-Access' => 'deny') },
                      want => qr/WSL00076/);
    ok t_cmp($res->code, 403, "access $url: False gives 403");
    ok t_cmp(log_text(@log), qr/WSL00076: client '[^']+' denied by the WSGIAccessScript/,
             "access $url: the denial is logged");
}
ok t_cmp(basic('/auth/access/secret.txt', undef, undef,
               'X-WSL-Access' => 'none')->code, 200,
         'access: None leaves it to the rest of the configuration');
@log = log_during(sub { $res = basic('/auth/access/app', undef, undef,
                                     'X-WSL-Access' => 'raise') },
                  want => qr/wsl-marker-access-raise/);
ok t_cmp($res->code, 500, 'access: an exception in allow_access is a 500');
ok t_cmp(scalar(grep /PermissionError: wsl-marker-access-raise/, @log), 1,
         'access: the exception is logged once');
@log = log_during(sub { $res = basic('/auth/access/app', undef, undef,
                                     'X-WSL-Access' => 'weird') },
                  want => qr/WSL00072/);
ok t_cmp($res->code, 500, 'access: a str from allow_access is a 500');
ok t_cmp(log_text(@log), qr/WSL00072: allow_access\(\).*type 'str'/,
         'access: the wrong result is logged');

# --- Dispatch --------------------------------------------------------------
$app = decode_json_body(safe(sub { GET('/auth/dispatch/one') }), 'one');
ok t_cmp($app->{callable}, 'application',
         'dispatch: callable_object None keeps the default callable');
ok t_cmp($app->{group}, qr/\|\/auth\/dispatch$/,
         'dispatch: application_group None keeps %{RESOURCE}');
$app = decode_json_body(safe(sub { GET('/auth/dispatch/two') }), 'two');
ok t_cmp($app->{callable}, 'second',
         'dispatch: callable_object picks the second callable');
ok t_cmp($app->{group}, 'dispatch-two',
         'dispatch: application_group picks a named group');
$app = decode_json_body(safe(sub { GET('/auth/dispatch/global') }), 'global');
ok t_cmp($app->{group}, '', 'dispatch: application_group %{GLOBAL}');
$app = decode_json_body(safe(sub { GET('/auth/dispatch/empty') }), 'empty');
ok t_cmp($app->{group}, '', "dispatch: application_group '' is %{GLOBAL}");
@log = log_during(sub { $res = safe(sub { GET('/auth/dispatch/raise') }) },
                  want => qr/wsl-marker-dispatch-raise/);
ok t_cmp($res->code, 500, 'dispatch: an exception is a 500');
ok t_cmp(scalar(grep /ValueError: wsl-marker-dispatch-raise/, @log), 1,
         'dispatch: the exception is logged once');
@log = log_during(sub { $res = safe(sub { GET('/auth/dispatch/weird') }) },
                  want => qr/WSL00072/);
ok t_cmp($res->code, 500, 'dispatch: an int from callable_object is a 500');
ok t_cmp(log_text(@log), qr/WSL00072: callable_object\(\).*type 'int'/,
         'dispatch: the wrong result is logged');

# --- Reloading on edit -----------------------------------------------------
{
    my $file = Apache::Test::vars('t_logs') . '/wsl_reload_users.wsgi';
    my $write = sub {
        my ($password, $mtime) = @_;
        open my $fh, '>', $file or die "$file: $!";
        print $fh "def check_password(environ, user, password):\n"
                . "    return user == 'r' and password == '$password'\n";
        close $fh;
        utime $mtime, $mtime, $file or die "utime $file: $!";
    };
    my $now = time;
    $write->('one', $now - 100);
    ok t_cmp(basic('/auth/reload/secret.txt', 'r', 'one')->code, 200,
             'reload: the first version of the auth script is used');
    $write->('two', $now - 50);
    # Every child must see the new version: several fresh requests.
    my %codes;
    for (1 .. 10) {
        $codes{'one:' . basic('/auth/reload/secret.txt', 'r', 'one')->code}++;
        $codes{'two:' . basic('/auth/reload/secret.txt', 'r', 'two')->code}++;
    }
    ok t_cmp(join(' ', sort keys %codes), 'one:401 two:200',
             'reload: an edited auth script is reloaded in every child');
    unlink $file;
    @log = log_during(sub { $res = basic('/auth/reload/secret.txt', 'r', 'two') },
                      want => qr/WSL00070/);
    ok t_cmp($res->code, 500, 'reload: a missing auth script is a 500');
    ok t_cmp(log_text(@log), qr/WSL00070: WSGIAuthUserScript: cannot read/,
             'reload: the missing script is logged');
}

# --- .htaccess (AllowOverride AuthConfig) ----------------------------------
$res = basic('/auth/htaccess/secret.txt');
ok t_cmp($res->code, 401, '.htaccess: WSGIAuthUserScript asks for credentials');
ok t_cmp(basic('/auth/htaccess/secret.txt', 'bob', 'builder')->content,
         "wsl-secret-htaccess\n",
         '.htaccess: a member of wsgi-group staff gets the file');
ok t_cmp(basic('/auth/htaccess/secret.txt', 'bob', 'wrong')->code, 401,
         '.htaccess: a wrong password is refused');

# --- configtest ---------------------------------------------------------------
{
    my $docroot = Apache::Test::vars('documentroot');
    my ($rc, $out) = WSLServer->configtest(<<"GOOD");
WSGIDispatchScript "$docroot/auth/dispatch.wsgi" application-group=%{GLOBAL}
WSGIPassApacheRequest On
<VirtualHost *:80>
    WSGIDispatchScript "$docroot/auth/dispatch.wsgi" application-group=%{SERVER}
    WSGIPassApacheRequest Off
</VirtualHost>
<Location /x>
    AuthType Basic
    AuthName x
    AuthBasicProvider wsgi
    WSGIAuthUserScript "$docroot/auth/users.wsgi" application-group=auth
    WSGIAuthGroupScript "$docroot/auth/users.wsgi" application-group=auth
    WSGIGroupAuthoritative Off
    WSGIAccessScript "$docroot/auth/access.wsgi" application-group=%{GLOBAL}
    WSGIDispatchScript "$docroot/auth/dispatch.wsgi"
    WSGIPassApacheRequest On
    Require wsgi-group admins staff
</Location>
GOOD
    ok t_cmp($rc, 0, 'every auth directive in its contexts passes configtest')
        or t_debug($out);
    for my $bad (@bad_configs) {
        my ($name, $text, $want) = @$bad;
        ($rc, $out) = WSLServer->configtest($text);
        ok t_ok($rc != 0, "configtest fails: $name");
        ok t_cmp($out, $want, "configtest names the problem: $name");
    }
}

# --- Nothing crashed --------------------------------------------------------
my $errlog = Apache::Test::vars('t_logs') . '/error_log';
open my $fh, '<', $errlog or die "$errlog: $!";
my @crash = grep /exit signal|Segmentation fault/, <$fh>;
close $fh;
ok t_cmp("@crash", '', 'no child crashed');
