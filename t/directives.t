# directives.t: WSGIImportScript, WSGIScriptAliasMatch, WSGIHandlerScript,
# WSGIErrorOverride, WSGIMapHEADToGET, WSGIRestrictStdout/Stdin, daemon
# mode's directives (parsed, a request for it refused), and configtest
# errors for bad arguments.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Time::HiRes ();
use JSON::PP ();
use WSLTest qw(t_ok get_json log_during test_port);
use WSLServer ();

my @bad_configs = (
    # [ description, config text, directive the message must name ]
    ['WSGIApplicationGroup %{BOGUS}', "WSGIApplicationGroup %{BOGUS}\n", 'WSGIApplicationGroup'],
    ['WSGIMapHEADToGET Maybe', "WSGIMapHEADToGET Maybe\n", 'WSGIMapHEADToGET'],
    ['WSGIPythonOptimize 3', "WSGIPythonOptimize 3\n", 'WSGIPythonOptimize'],
    ['WSGIPythonHashSeed abc', "WSGIPythonHashSeed abc\n", 'WSGIPythonHashSeed'],
    ['WSGITrustedProxies not-an-ip', "WSGITrustedProxies not-an-ip\n", 'WSGITrustedProxies'],
    ['WSGITrustedProxyHeaders X-Bogus', "WSGITrustedProxyHeaders X-Bogus\n", 'WSGITrustedProxyHeaders'],
    ['WSGIScriptAlias with bogus=1', "WSGIScriptAlias /x /y.wsgi bogus=1\n", 'WSGIScriptAlias'],
    ['WSGIScriptAliasMatch with a bad regex', "WSGIScriptAliasMatch \"(\" /y.wsgi\n", 'WSGIScriptAliasMatch'],
    ['WSGIImportScript application-group=%{RESOURCE}',
        "WSGIImportScript /y.wsgi application-group=%{RESOURCE}\n", 'WSGIImportScript'],
    ['WSGIPythonPath inside a VirtualHost',
        "<VirtualHost *:80>\n    WSGIPythonPath /tmp\n</VirtualHost>\n", 'WSGIPythonPath'],
);

plan tests => 56 + 2 * @bad_configs, need_module 'mod_wsgi_lite.c';

my $port = test_port();
my $docroot = Apache::Test::vars('documentroot');

# --- WSGIImportScript ---------------------------------------------------------------
{
    my (%pre, @bad);
    for (1 .. 20) {
        my $j = get_json('/preload/check_global');
        my $p = $j->{preloaded};
        if (ref $p eq 'HASH' && ($p->{pid} // 0) == ($j->{pid} // -1)
            && $p->{time} <= $j->{first_request}) {
            $pre{ $j->{pid} } = 1;
        }
        else {
            push @bad, $j->{pid} // 'none';
        }
    }
    ok t_cmp(join(',', @bad), '',
             'WSGIImportScript (%{GLOBAL}): the script ran in the process before its first request');
    my $j = get_json('/preload/check_global');
    ok t_cmp($j->{executions}, 1, 'the imported script ran once in the process');
    $j = get_json('/preload/global');
    ok t_cmp($j->{executions}, 1,
             'a WSGIScriptAlias to the same script in the same group reuses it (not run again)');
    ok t_cmp(($j->{preloaded} || {})->{pid}, $j->{pid}, 'and serves the preloaded module');
    $j = get_json('/preload/check_sub');
    ok t_cmp($j->{group}, 'wsl-preload-other', '(setup) a named group');
    ok t_ok(!defined $j->{preloaded} && !defined $j->{executions},
            'the preload ran in %{GLOBAL} only, not in another group');
}

# --- WSGIScriptAliasMatch ---------------------------------------------------------
{
    my $j = get_json('/match/alpha/x/y');
    ok t_cmp($j->{script}, 'alpha', 'WSGIScriptAliasMatch: $1 picks the script (alpha)');
    ok t_cmp($j->{SCRIPT_NAME}, '/match/alpha', 'SCRIPT_NAME is the matched part');
    ok t_cmp($j->{PATH_INFO}, '/x/y', 'PATH_INFO is what follows the match');
    ok t_cmp($j->{SCRIPT_FILENAME}, "$docroot/match/alpha.wsgi", 'SCRIPT_FILENAME is the substituted path');
    ok t_cmp($j->{group}, "localhost:$port|/match/alpha",
             'the default group of a matched script is host:port|matched SCRIPT_NAME');
    $j = get_json('/match/beta');
    ok t_cmp($j->{script}, 'beta', '$1 picks another script (beta)');
    ok t_cmp($j->{SCRIPT_NAME} . '|' . $j->{PATH_INFO}, '/match/beta|',
             'no PATH_INFO when the URL ends at the match');
    ok t_cmp(GET('/match/gamma/x')->code, 404, 'a substituted script that does not exist: 404');
    ok t_cmp(GET('/match/ALPHA')->code, 404, 'a URL the regex does not match is not mapped');
}

# --- WSGIHandlerScript ------------------------------------------------------------
{
    my $j = get_json('/hscript/foo.hsx');
    ok t_cmp($j->{callable}, 'application', 'WSGIHandlerScript + AddHandler: the handler script runs');
    ok t_cmp($j->{SCRIPT_FILENAME}, "$docroot/hscript/foo.hsx",
             'SCRIPT_FILENAME is the requested file, not the handler script');
    ok t_cmp($j->{content}, "file foo\n", 'the handler can read the target file');
    ok t_cmp($j->{SCRIPT_NAME}, '/hscript/foo.hsx', 'SCRIPT_NAME is the file\'s URL');
    my $r = GET('/hscript/missing.hsx');
    ok t_cmp($r->code, 404, 'a missing target file: 404');
    ok t_ok($r->content !~ /"callable"/, 'the handler script does not run for a missing file');
    ok t_cmp(GET_BODY('/hscript/plain.txt'), "plain text\n", 'other files are served as usual');
    $j = get_json('/hscript/bar.hsx2');
    ok t_cmp($j->{callable} . ' ' . $j->{group}, 'handle wsl-hs-group',
             'WSGIHandlerScript options callable-object= and application-group=');
    ok t_cmp(GET('/hscript_handler/handler.wsgi')->content, qr/^(?!\{)/,
             '(control) the handler script itself is not run as a WSGI script by URL');
}

# --- WSGIErrorOverride -------------------------------------------------------------
{
    my $r = GET('/eo/on');
    ok t_cmp($r->code, 404, 'WSGIErrorOverride On: the status is kept');
    ok t_cmp($r->content, qr/wsl custom 404 text/, 'WSGIErrorOverride On: ErrorDocument text replaces the body');
    ok t_ok($r->content !~ /app body/, 'WSGIErrorOverride On: the app\'s own body is not sent');
    $r = GET('/eo/file');
    ok t_cmp($r->code . ' ' . $r->content, "404 local error document\n",
             'WSGIErrorOverride On: a local ErrorDocument file replaces the body');
    $r = GET('/eo/on?status=200');
    ok t_cmp($r->code . ' ' . $r->content, '200 app body for 200',
             'WSGIErrorOverride On: a 200 passes through');
    $r = GET('/eo/on?status=302');
    ok t_cmp($r->code, 302, 'WSGIErrorOverride On: a 3xx is not overridden (status)');
    $r = GET('/eo/off');
    ok t_cmp($r->code . ' ' . $r->content, '404 app body for 404',
             'WSGIErrorOverride Off: the app\'s own 404 body');
    $r = GET('/eo/default');
    ok t_cmp($r->code . ' ' . $r->content, '404 app body for 404',
             'WSGIErrorOverride default (Off): the app\'s own 404 body');
}

# --- WSGIMapHEADToGET -----------------------------------------------------------------
{
    my %exp = (on => 'GET', off => 'HEAD', auto => 'HEAD', default => 'HEAD');
    for my $loc (qw(on off auto default)) {
        my $r = HEAD("/head/$loc");
        ok t_cmp(($r->code // 0) . ' ' . ($r->header('X-Method') // 'none'),
                 "200 $exp{$loc}", "WSGIMapHEADToGET $loc, no content filter: HEAD shows as $exp{$loc}");
    }
    ok t_cmp(HEAD('/head/on')->content, '', 'WSGIMapHEADToGET On: still no body sent for HEAD');
    ok t_cmp(GET('/head/off')->header('X-Method'), 'GET', '(control) a GET is a GET');
    if (need_module('deflate')) {
        my %dexp = (auto_deflate => 'GET', default_deflate => 'GET', off_deflate => 'HEAD');
        for my $loc (qw(auto_deflate default_deflate off_deflate)) {
            my $r = HEAD("/head/$loc", 'Accept-Encoding' => 'gzip');
            ok t_cmp(($r->code // 0) . ' ' . ($r->header('X-Method') // 'none'),
                     "200 $dexp{$loc}", "$loc (SetOutputFilter DEFLATE): HEAD shows as $dexp{$loc}");
        }
    }
    else {
        skip 'mod_deflate not loaded', 0 for 1 .. 3;
    }
}

# --- stdout / stdin (the test server: defaults) ------------------------------------
{
    my $text = "wsl-print-$$";
    my $j;
    my @lines = log_during(sub { $j = get_json("/sysinfo?print=$text") },
                           want => qr/\Q$text\E/);
    ok t_ok(($j->{print} || {})->{ok}, 'WSGIRestrictStdout default Off: print() works');
    ok t_cmp(scalar(grep /\Q$text\E/, @lines), 1, 'and the printed line goes to the error log');
    $j = get_json('/sysinfo?stdin');
    my $s = $j->{stdin} || {};
    ok t_cmp($s->{type} // 'no exception', 'OSError',
             'WSGIRestrictStdin default On: sys.stdin.read() raises OSError');
    ok t_cmp($s->{message} // '', qr/WSGIRestrictStdin/, 'the error names WSGIRestrictStdin');
}

# --- stdout / stdin (a server of its own: the opposite settings) ----------------
{
    my $srv = eval {
        WSLServer->start(conf => <<"CONF");
WSGIRestrictStdout On
WSGIRestrictStdin Off
WSGIScriptAlias /sysinfo "$docroot/interp/sysinfo.wsgi"
WSGIScriptAlias /sysinfo_global "$docroot/interp/sysinfo.wsgi" application-group=%{GLOBAL}
CONF
    };
    ok t_ok($srv, '(setup) a server with WSGIRestrictStdout On starts') or t_debug($@);
    my $json = JSON::PP->new;
    for my $url ('/sysinfo', '/sysinfo_global') {
        my ($code, $body) = $srv ? $srv->get("$url?print=restricted-$$") : (0, '');
        my $j = eval { $json->decode($body) } || {};
        my $p = $j->{print} || {};
        ok t_cmp(($p->{type} // 'no exception') . ': ' . ($p->{message} // ''),
                 qr/^OSError: .*restricted/,
                 "WSGIRestrictStdout On ($url): print() raises OSError saying restricted");
        ($code, $body) = $srv ? $srv->get("$url?stdin") : (0, '');
        $j = eval { $json->decode($body) } || {};
        my $s = $j->{stdin} || {};
        ok t_ok($code == 200 && $s->{ok},
                "WSGIRestrictStdin Off ($url): sys.stdin.read() does not raise")
            or t_debug("$code $body");
    }
    my $log = $srv ? $srv->log_text : '';
    ok t_cmp(scalar(() = $log =~ /restricted-$$/g), 0, 'nothing printed reached the log');
    my $secs = $srv ? $srv->stop : undef;
    ok t_ok(defined $secs, '(cleanup) the server stopped');
}

# --- daemon mode: a WSGIProcessGroup request runs in its group -------------------------
{
    my $r = GET('/daemon');
    ok t_cmp($r->code, 200, 'a request under WSGIProcessGroup (daemon mode) is served');
    my $r2 = GET('/daemon_missing');
    ok t_cmp($r2->code, 500, 'a WSGIProcessGroup naming no WSGIDaemonProcess gets 500');
    my ($rc, $out) = WSLServer->configtest(<<"CONF");
WSGIDaemonProcess foo processes=2 threads=15
WSGISocketPrefix wsgi
WSGIScriptAlias /x "$docroot/wsgi/hello.wsgi"
<Location /x>
    WSGIProcessGroup foo
</Location>
CONF
    ok t_cmp($rc, 0, 'WSGIDaemonProcess/WSGISocketPrefix/WSGIProcessGroup pass configtest')
        or t_debug($out);
}

# --- configtest -----------------------------------------------------------------------
{
    my ($rc, $out) = WSLServer->configtest(<<"GOOD");
WSGIScriptAlias /ok "$docroot/wsgi/hello.wsgi" application-group=%{GLOBAL} callable-object=application
WSGIScriptAliasMatch ^/m/([a-z]+) "$docroot/match/\$1.wsgi" application-group=grp
WSGIImportScript "$docroot/interp/preload.wsgi" application-group=%{GLOBAL}
WSGIImportScript "$docroot/interp/preload.wsgi" application-group=named
WSGIPythonOptimize 2
WSGIPythonHashSeed 123
WSGIMapHEADToGET auto
WSGITrustedProxies 127.0.0.1 10.0.0.0/8 ::1
WSGITrustedProxyHeaders X-Forwarded-For X-Real-IP X-Forwarded-Proto
WSGIApplicationGroup %{ENV:FOO}
<Directory /tmp>
    WSGIHandlerScript h "$docroot/hscript_handler/handler.wsgi" callable-object=handle
    WSGIErrorOverride On
    WSGIScriptReloading Off
</Directory>
GOOD
    ok t_cmp($rc, 0, '(control) a valid configuration using the new directives passes configtest')
        or t_debug($out);
    for my $bad (@bad_configs) {
        my ($name, $snippet, $directive) = @$bad;
        ($rc, $out) = WSLServer->configtest($snippet);
        ok t_ok($rc != 0, "configtest fails for $name");
        ok t_cmp($out, qr/\Q$directive\E/, "the configtest message for $name names $directive");
    }
}
