# directives_mw.t: every directive of mod_wsgi 4.9.4, plus WSGISwitchInterval
# (mod_wsgi 5).  (a) One configuration using them all passes configtest,
# here and with Debian's mod_wsgi, and serves requests.  (b) What the ones
# added for it do, seen through small servers of the test's own:
# WSGIDontWriteBytecode, WSGIPythonEggs, WSGISwitchInterval,
# WSGINewRelicConfigFile/Environment (with a real `newrelic` package the
# test writes, which records its initialize() calls), WSGIVerboseDebugging,
# WSGIRestrictEmbedded, WSGIRestrictProcess, and the start-up notes of the
# daemon-only WSGIAcceptMutex and WSGISocketRotation.  (c) configtest
# failures for bad arguments, each naming its directive.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use File::Temp ();
use JSON::PP ();
use WSLTest qw(t_ok embedded_python);
use WSLServer ();

# mod_wsgi 4.9.4's command table as Debian builds it: Apache 2.4 and
# Python 3 leave out WSGIUserAuthoritative and WSGIPy3kWarningFlag.
my @MW494 = qw(
    WSGIScriptAlias WSGIScriptAliasMatch WSGIDaemonProcess WSGISocketPrefix
    WSGISocketRotation WSGIAcceptMutex WSGILazyInitialization
    WSGIVerboseDebugging WSGIDontWriteBytecode WSGIPythonWarnings
    WSGIPythonOptimize WSGIPythonHome WSGIPythonPath WSGIPythonEggs
    WSGIPythonHashSeed WSGIDestroyInterpreter WSGIRestrictEmbedded
    WSGIRestrictStdin WSGIRestrictStdout WSGIRestrictSignal
    WSGICaseSensitivity WSGIRestrictProcess WSGIProcessGroup
    WSGIApplicationGroup WSGICallableObject WSGIImportScript
    WSGIDispatchScript WSGIPassApacheRequest WSGIPassAuthorization
    WSGIScriptReloading WSGIErrorOverride WSGIChunkedRequest
    WSGIMapHEADToGET WSGIIgnoreActivity WSGITrustedProxyHeaders
    WSGITrustedProxies WSGIEnableSendfile WSGIAccessScript
    WSGIAuthUserScript WSGIAuthGroupScript WSGIGroupAuthoritative
    WSGIHandlerScript WSGIServerMetrics WSGINewRelicConfigFile
    WSGINewRelicEnvironment
);
my $MOD_WSGI_SO = '/usr/lib/apache2/modules/mod_wsgi.so';

my @bad_configs = (
    # [ description, config text, directive the message names, and why ]
    ['WSGIDontWriteBytecode Maybe', "WSGIDontWriteBytecode Maybe\n",
        'WSGIDontWriteBytecode', qr/On or Off/],
    ['WSGIVerboseDebugging 1', "WSGIVerboseDebugging 1\n",
        'WSGIVerboseDebugging', qr/On or Off/],
    ['WSGIRestrictEmbedded yes', "WSGIRestrictEmbedded yes\n",
        'WSGIRestrictEmbedded', qr/On or Off/],
    ['WSGISocketRotation sometimes', "WSGISocketRotation sometimes\n",
        'WSGISocketRotation', qr/On or Off/],
    ['WSGIAcceptMutex bogus', "WSGIAcceptMutex bogus\n",
        'WSGIAcceptMutex', qr/'bogus' is not a lock mechanism.*default.*fcntl/],
    ['WSGIAcceptMutex without an argument', "WSGIAcceptMutex\n",
        'WSGIAcceptMutex', qr/one argument/],
    ['WSGIRestrictProcess without a group', "WSGIRestrictProcess\n",
        'WSGIRestrictProcess', qr/one or more process group names/],
    ['WSGISwitchInterval 0', "WSGISwitchInterval 0\n",
        'WSGISwitchInterval', qr/not a positive number of seconds/],
    ['WSGISwitchInterval -0.5', "WSGISwitchInterval -0.5\n",
        'WSGISwitchInterval', qr/not a positive number of seconds/],
    ['WSGISwitchInterval abc', "WSGISwitchInterval abc\n",
        'WSGISwitchInterval', qr/'abc' is not a positive number/],
    ['WSGISwitchInterval 0.005s', "WSGISwitchInterval 0.005s\n",
        'WSGISwitchInterval', qr/not a positive number/],
    ['WSGISwitchInterval nan', "WSGISwitchInterval nan\n",
        'WSGISwitchInterval', qr/not a positive number/],
    ['WSGISwitchInterval inf', "WSGISwitchInterval inf\n",
        'WSGISwitchInterval', qr/at most 86400/],
    ['WSGISwitchInterval without an argument', "WSGISwitchInterval\n",
        'WSGISwitchInterval', qr/one argument/],
    ['WSGIPythonEggs without an argument', "WSGIPythonEggs\n",
        'WSGIPythonEggs', qr/one argument/],
    ['WSGINewRelicEnvironment with two arguments', "WSGINewRelicEnvironment a b\n",
        'WSGINewRelicEnvironment', qr/one argument/],
    ['WSGIUserAuthoritative On', "WSGIUserAuthoritative On\n",
        'WSGIUserAuthoritative', qr/not available with Apache 2\.4/],
    ['WSGIPy3kWarningFlag On', "WSGIPy3kWarningFlag On\n",
        'WSGIPy3kWarningFlag', qr/Python 2 only/],
    (map { ["$_ inside a VirtualHost",
            "<VirtualHost *:80>\n    $_\n</VirtualHost>\n",
            (split ' ', $_)[0], qr/cannot occur within <VirtualHost>/] }
        'WSGIDontWriteBytecode On', 'WSGIPythonEggs /tmp',
        'WSGISwitchInterval 0.01', 'WSGIVerboseDebugging On',
        'WSGIRestrictEmbedded On', 'WSGINewRelicConfigFile /tmp/x.ini',
        'WSGINewRelicEnvironment staging', 'WSGIAcceptMutex default',
        'WSGISocketRotation Off'),
);

plan tests => 83 + 3 * @bad_configs, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $apps = "$docroot/directives_mw";
my $probe = "$apps/probe.wsgi";
my $hooks = "$apps/hooks.wsgi";
my $json = JSON::PP->new;

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh or die "$file: $!";
}

# A directory for WSGIPythonPath, writable by the server (it runs as the
# test's user): a module to import (does Python cache its bytecode
# beside it?), and optionally a `newrelic` package whose agent records
# each initialize(config_file, environment) and a .pth file that leaves a
# started.PID file each time Python starts in a process.
sub python_lib {
    my (%opt) = @_;
    my $dir = File::Temp->newdir('wsl-mwlib-XXXXXX', TMPDIR => 1);
    chmod 0755, "$dir";
    write_file("$dir/wsl_bc_probe.py", "VALUE = 1\n");
    if ($opt{newrelic}) {
        mkdir "$dir/newrelic" or die "$dir/newrelic: $!";
        write_file("$dir/newrelic/__init__.py", '');
        write_file("$dir/newrelic/agent.py", <<'PY');
# The test's New Relic agent: initialize() records its arguments, in this
# interpreter (calls) and in initialize.log beside the package.
import json
import os

calls = []


def initialize(config_file=None, environment=None, *args, **kwargs):
    calls.append([config_file, environment])
    log = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                       'initialize.log')
    with open(log, 'a') as f:
        f.write(json.dumps([os.getpid(), config_file, environment]) + '\n')
PY
        write_file("$dir/newrelic.ini", "[newrelic]\napp_name = wsl\n");
    }
    if ($opt{marker}) {
        write_file("$dir/wsl_started.pth",
                   "import os; open(os.path.join('$dir', 'started.%d' "
                   . "% os.getpid()), 'w').close()\n");
    }
    return $dir;
}

sub started_markers {
    my ($dir) = @_;
    opendir my $dh, $dir or return 0;
    my $n = grep /^started\.\d+$/, readdir $dh;
    closedir $dh;
    return $n;
}

sub get_report {
    my ($srv, $path) = @_;
    my ($code, $body) = $srv ? $srv->get($path) : (0, '');
    my $j = $code == 200 ? eval { $json->decode($body) } : undef;
    return ($code, $j || {});
}

sub log_lines {
    my ($srv, $re) = @_;
    return grep /$re/, split /\n/, ($srv ? $srv->log_text : '');
}

# Embedded mode in t/run.sh's daemon mode too: these servers are about the
# directives as Apache's children apply them (WSGIRestrictEmbedded,
# WSGIRestrictProcess on %{GLOBAL}, what runs in the children).
sub start_server {
    my ($what, $conf) = @_;
    my $srv = eval { WSLServer->start(conf => $conf, embedded => 1) };
    ok t_ok($srv, "(setup) the server with $what starts") or t_debug($@);
    return $srv;
}

sub stop_server {
    my ($srv, $what) = @_;
    my $secs = $srv ? $srv->stop : undef;
    ok t_ok(defined $secs, "(cleanup) the server with $what stopped");
}

# --- (a) every mod_wsgi 4.9.4 directive in one configuration ------------
{
    my $lib = python_lib(newrelic => 1);
    # The embedded Python's own prefix (Debian's: /usr).
    my $prefix = embedded_python()->{prefix} // '/usr';
    my $conf = <<"CONF";
WSGIPythonHome "$prefix"
WSGIPythonPath "$lib"
WSGIPythonOptimize 1
WSGIPythonHashSeed 0
WSGIPythonWarnings ignore::DeprecationWarning
WSGIPythonEggs "$lib/eggs"
WSGIDontWriteBytecode On
WSGILazyInitialization On
WSGIRestrictEmbedded Off
WSGIRestrictStdin On
WSGIRestrictStdout Off
WSGIRestrictSignal On
WSGIDestroyInterpreter On
WSGICaseSensitivity On
WSGIVerboseDebugging Off
WSGIServerMetrics Off
WSGINewRelicConfigFile "$lib/newrelic.ini"
WSGINewRelicEnvironment production
WSGISocketPrefix wsgi
WSGISocketRotation On
WSGIAcceptMutex default
WSGIDaemonProcess wsl-all processes=1 threads=2
WSGIImportScript "$probe" application-group=%{GLOBAL} process-group=%{GLOBAL}
WSGIScriptAlias /all "$probe" application-group=%{GLOBAL} process-group=%{GLOBAL} callable-object=application
WSGIScriptAliasMatch ^/wslm/(probe)\$ "$apps/\$1.wsgi"
WSGIHandlerScript wsl-all-handler "$probe"
WSGIApplicationGroup %{GLOBAL}
WSGICallableObject application
WSGIProcessGroup %{GLOBAL}
WSGIRestrictProcess %{GLOBAL} wsl-all
WSGIDispatchScript "$hooks"
WSGIPassApacheRequest Off
WSGIPassAuthorization On
WSGIScriptReloading On
WSGIErrorOverride Off
WSGIChunkedRequest Off
WSGIMapHEADToGET Auto
WSGIIgnoreActivity Off
WSGITrustedProxyHeaders X-Forwarded-For
WSGITrustedProxies 127.0.0.1
WSGIEnableSendfile Off
<Location /all>
    WSGIAccessScript "$hooks"
    WSGIAuthUserScript "$hooks"
    WSGIAuthGroupScript "$hooks"
    WSGIGroupAuthoritative On
    WSGIRestrictProcess %{GLOBAL}
    WSGIProcessGroup %{GLOBAL}
    WSGIApplicationGroup %{GLOBAL}
    WSGICallableObject application
</Location>
CONF
    my @missing = grep { $conf !~ /^\s*\Q$_\E\s/m } @MW494;
    ok t_cmp("@missing", '', '(setup) the configuration uses all 45 directives of mod_wsgi 4.9.4');
    if (-f $MOD_WSGI_SO) {
        open my $fh, '<:raw', $MOD_WSGI_SO or die "$MOD_WSGI_SO: $!";
        my $so = do { local $/; <$fh> };
        close $fh;
        my @unknown = grep { index($so, "\0$_\0") < 0 } @MW494;
        ok t_cmp("@unknown", '', '(setup) each of them is a name in Debian\'s mod_wsgi.so');
        my ($rc, $out) = WSLServer->configtest($conf, module => 'mod_wsgi');
        ok t_cmp($rc, 0, 'the configuration passes configtest with Debian\'s mod_wsgi 4.9.4')
            or t_debug($out);
    }
    else {
        skip "no $MOD_WSGI_SO", 0 for 1 .. 2;
    }
    $conf .= "WSGISwitchInterval 0.005\n";
    my ($rc, $out) = WSLServer->configtest($conf);
    ok t_cmp($rc, 0, 'the configuration, with WSGISwitchInterval, passes configtest')
        or t_debug($out);

    my $srv = start_server('every directive', $conf);
    my ($code, $j) = get_report($srv, '/all');
    ok t_cmp($code, 200, 'it serves a request through WSGIScriptAlias (and the access script)');
    ok t_cmp($j->{group}, '', 'in %{GLOBAL}');
    ok t_cmp($j->{newrelic_calls}, [["$lib/newrelic.ini", 'production']],
             'with the New Relic agent initialised');
    ($code) = get_report($srv, '/wslm/probe');
    ok t_cmp($code, 200, 'and a request through WSGIScriptAliasMatch');
    ok t_cmp(scalar(log_lines($srv, qr/wsl-access-script-ran/)), 1,
             'the access script ran for /all only');
    ok t_cmp(join("\n", log_lines($srv, qr/WSL000(?:04|10|11)/)), '',
             'no Python failure in the log');
    stop_server($srv, 'every directive');
}

# --- (b) the interpreter settings, on ----------------------------------
{
    my $lib = python_lib(newrelic => 1);
    my $ini = "$lib/newrelic.ini";
    my $srv = start_server('the new directives on', <<"CONF");
LogLevel info wsgi_lite:debug
WSGIPythonPath "$lib"
WSGIDontWriteBytecode On
WSGIPythonEggs "$lib/eggs"
WSGISwitchInterval 0.002
WSGIVerboseDebugging On
WSGINewRelicConfigFile "$ini"
WSGINewRelicEnvironment staging
WSGIAcceptMutex FCNTL
WSGISocketRotation Off
WSGIScriptAlias /probe "$probe" application-group=%{GLOBAL}
WSGIScriptAlias /probe_named "$probe" application-group=wsl-named
WSGIScriptAlias /rp_alias "$probe" process-group=%{GLOBAL}
WSGIScriptAlias /rp "$probe"
<Location /rp/global_ok>
    WSGIRestrictProcess %{GLOBAL} bob:1
</Location>
<Location /rp/global_refused>
    WSGIRestrictProcess bob:1 bob:2
</Location>
<Location /rp/env_refused>
    WSGIRestrictProcess bob:1
    SetEnv WSL_PG joe
    WSGIProcessGroup %{ENV:WSL_PG}
</Location>
<Location /rp/env_allowed>
    WSGIRestrictProcess bob:1
    SetEnv WSL_PG bob:1
    WSGIProcessGroup %{ENV:WSL_PG}
</Location>
<Location /rp/env_global>
    WSGIRestrictProcess %{GLOBAL}
    SetEnv WSL_PG %{GLOBAL}
    WSGIProcessGroup %{ENV:WSL_PG}
</Location>
<Location /rp/unrestricted>
    WSGIProcessGroup bob:1
</Location>
<Location /rp/dispatch_global>
    WSGIProcessGroup bob:1
    WSGIDispatchScript "$apps/dispatch_pg.wsgi"
</Location>
<Location /rp/dispatch_refused>
    WSGIProcessGroup bob:1
    WSGIRestrictProcess bob:1
    WSGIDispatchScript "$apps/dispatch_pg.wsgi"
</Location>
<Location /rp_alias>
    WSGIProcessGroup bob:1
    WSGIRestrictProcess %{GLOBAL}
</Location>
CONF
    for my $url ('/probe', '/probe_named') {
        my ($code, $j) = get_report($srv, $url);
        ok t_cmp($code, 200, "(setup) $url answers");
        ok t_ok($j->{dont_write_bytecode} && $j->{flags_dont_write_bytecode},
                "WSGIDontWriteBytecode On ($url): sys.dont_write_bytecode and sys.flags");
        ok t_cmp($j->{egg_cache}, "$lib/eggs",
                 "WSGIPythonEggs ($url): os.environ['PYTHON_EGG_CACHE']");
        ok t_ok(abs(($j->{switch_interval} // 0) - 0.002) < 1e-9,
                "WSGISwitchInterval 0.002 ($url): sys.getswitchinterval()")
            or t_debug($j->{switch_interval});
        ok t_cmp($j->{newrelic_calls}, [[$ini, 'staging']],
                 "WSGINewRelicConfigFile/Environment ($url): initialize(file, environment) "
                 . "called once in this interpreter");
    }
    my (undef, $named) = get_report($srv, '/probe_named');
    ok t_cmp($named->{group}, 'wsl-named', '(setup) /probe_named runs in a named group');
    my ($code, $j) = get_report($srv, '/probe?import=wsl_bc_probe');
    ok t_cmp($j->{pycache}, [], 'WSGIDontWriteBytecode On: no bytecode cached for an imported module');
    ok t_ok(!-e "$lib/__pycache__" && !-e "$lib/newrelic/__pycache__",
            'no __pycache__ directory at all on WSGIPythonPath');
    my @calls = do {
        open my $fh, '<', "$lib/initialize.log" or die "initialize.log: $!";
        map { $json->decode($_) } <$fh>;
    };
    ok t_ok(@calls >= 2 && !grep({ $_->[1] ne $ini || $_->[2] ne 'staging' } @calls),
            'every interpreter set up called initialize() with the file and environment')
        or t_debug(\@calls);
    my @nr = log_lines($srv, qr/WSL00165/);
    ok t_cmp($nr[0] // 'none', qr/newrelic\.agent initialised with '\Q$ini\E'/,
             'WSL00165 logs the agent initialised');
    ok t_cmp(scalar(log_lines($srv, qr/WSL00166: Python's GIL switch interval set to 0\.002000 s/)) > 0,
             1, 'WSL00166 logs the switch interval set');
    ok t_ok(scalar log_lines($srv, qr/WSL00164: thread \d+: new Python thread state for application group '%\{GLOBAL\}'/),
            'WSGIVerboseDebugging On: thread states of %{GLOBAL} are logged (WSL00164)');
    ok t_ok(scalar log_lines($srv, qr/WSL00164: thread \d+: new Python thread state for application group 'wsl-named'/),
            'and those of a named group');
    my @mutex = log_lines($srv, qr/WSL00163: WSGIAcceptMutex/);
    ok t_cmp(scalar(@mutex), 1, 'the start-up log notes WSGIAcceptMutex once');
    ok t_cmp($mutex[0] // '', qr/WSGIAcceptMutex fcntl: no effect, daemon processes accept on their socket without one/,
             'saying why it has no effect');
    my @rot = log_lines($srv, qr/WSL00163: WSGISocketRotation/);
    ok t_cmp(scalar(@rot), 1, 'the start-up log notes WSGISocketRotation once');
    ok t_cmp($rot[0] // '', qr/WSGISocketRotation Off: no effect, each configuration generation makes its daemon sockets anew/,
             'saying why it has no effect');

    # WSGIRestrictProcess: the group a request selects, checked before
    # anything else decides where it runs.
    my %rp = (
        'global_ok'      => [200, undef, 'WSGIRestrictProcess listing %{GLOBAL}: an embedded request runs'],
        'global_refused' => [500, qr/WSL00160: process group '%\{GLOBAL\}' is not one that WSGIRestrictProcess allows here \(for '\/rp\/global_refused'\)/,
                             'WSGIRestrictProcess without %{GLOBAL}: an embedded request is refused'],
        'env_refused'    => [500, qr/WSL00160: process group 'joe' .* \(for '\/rp\/env_refused'\)/,
                             'WSGIProcessGroup %{ENV:VAR} naming a group not listed: refused'],
        'env_allowed'    => [500, qr/WSL00051: WSGIProcessGroup bob:1: no WSGIDaemonProcess of that name \(for '\/rp\/env_allowed'\)/,
                             'a listed group passes the restriction, then is looked up among the daemon groups (WSL00051)'],
        'env_global'     => [200, undef, 'WSGIProcessGroup %{ENV:VAR} that is %{GLOBAL}: runs here'],
        'dispatch_global' => [200, undef, 'a dispatch script\'s process_group() of \'\' overrides WSGIProcessGroup'],
        'dispatch_refused' => [500, qr/WSL00160: process group '%\{GLOBAL\}' .* \(for '\/rp\/dispatch_refused'\)/,
                             'and WSGIRestrictProcess checks what the dispatch script chose'],
        'unrestricted'   => [500, qr/WSL00051: WSGIProcessGroup bob:1: no WSGIDaemonProcess of that name \(for '\/rp\/unrestricted'\)/,
                             'no WSGIRestrictProcess: a group that is not defined gets WSL00051'],
    );
    for my $name (sort keys %rp) {
        my ($want, $re, $what) = @{ $rp{$name} };
        my ($got) = $srv ? $srv->get("/rp/$name") : (0);
        if ($re) {
            ok t_cmp($got, $want, "$what (status)");
            ok t_ok(scalar log_lines($srv, $re), "$what (logged)");
        }
        else {
            ok t_cmp($got, $want, $what);
            ok t_cmp(scalar(log_lines($srv, qr/WSL00(?:160|051).*\/rp\/$name'/)), 0,
                     "$what (nothing logged)");
        }
    }
    ($code) = $srv ? $srv->get('/rp_alias') : (0);
    ok t_cmp($code, 200, 'process-group=%{GLOBAL} of WSGIScriptAlias overrides WSGIProcessGroup, '
             . 'and WSGIRestrictProcess checks the result');
    stop_server($srv, 'the new directives on');
}

# --- (b) the same interpreter settings, off (the defaults) --------------
{
    my $lib = python_lib(marker => 1);
    my $srv = start_server('the defaults', <<"CONF");
LogLevel info wsgi_lite:debug
WSGIPythonPath "$lib"
WSGINewRelicConfigFile "$lib/newrelic.ini"
WSGIScriptAlias /probe "$probe" application-group=%{GLOBAL}
WSGIScriptAlias /probe_named "$probe" application-group=wsl-named
CONF
    my ($code, $j) = get_report($srv, '/probe_named');
    ok t_cmp($code, 200, '(setup) a named group answers');
    ($code, $j) = get_report($srv, '/probe?import=wsl_bc_probe');
    ok t_ok($code == 200 && !$j->{dont_write_bytecode}, 'by default sys.dont_write_bytecode is False');
    ok t_cmp(scalar(grep /^wsl_bc_probe\.cpython-\d+(?:\.opt-\d)?\.pyc$/, @{ $j->{pycache} || [] }), 1,
             'and an imported module\'s bytecode is cached in __pycache__');
    ok t_ok(!defined $j->{egg_cache}, 'no WSGIPythonEggs: no PYTHON_EGG_CACHE');
    ok t_ok(abs(($j->{switch_interval} // 0) - 0.005) < 1e-9,
            'no WSGISwitchInterval: Python\'s 0.005 s');
    ok t_ok(exists $j->{newrelic_calls} && !defined $j->{newrelic_calls},
            '(setup) no newrelic package on this path');
    my @fail = log_lines($srv, qr/WSL00011: WSGINewRelicConfigFile '\Q$lib\E\/newrelic\.ini': newrelic\.agent\.initialize\(\) in application group '(?:%\{GLOBAL\}|wsl-named)' failed/);
    ok t_ok(scalar(@fail), 'a newrelic.agent that cannot be imported is logged (WSL00011) per interpreter');
    ok t_ok(scalar log_lines($srv, qr/No module named 'newrelic'/), 'with the traceback saying why');
    ok t_cmp(scalar(log_lines($srv, qr/WSL0016[346]/)), 0,
             'no verbose thread-state lines, no daemon-only notes, no switch interval set');
    ok t_ok(started_markers("$lib") >= 1, '(control) Python started in the children (the .pth marker)');
    stop_server($srv, 'the defaults');
}

# --- (b) WSGIRestrictEmbedded On -----------------------------------------
{
    my $lib = python_lib(marker => 1);
    mkdir "$lib/ht" or die "$lib/ht: $!";
    write_file("$lib/ht/.htaccess", "WSGIAccessScript \"$hooks\"\n");
    write_file("$lib/ht/page.txt", "static\n");
    my $srv = start_server('WSGIRestrictEmbedded On', <<"CONF");
WSGIRestrictEmbedded On
WSGIPythonPath "$lib"
WSGIScriptAlias /probe "$probe"
Alias /ht "$lib/ht"
<Directory "$lib/ht">
    AllowOverride AuthConfig
    Require all granted
</Directory>
CONF
    my ($code) = $srv ? $srv->get('/probe') : (0);
    ok t_cmp($code, 500, 'WSGIRestrictEmbedded On: a WSGI request gets 500');
    my @why = log_lines($srv, qr/WSL00161/);
    ok t_cmp($why[0] // 'no WSL00161', qr/embedded mode is disabled \(WSGIRestrictEmbedded On\).*'\Q$probe\E' is not run \(for '\/probe'\)/,
             'WSL00161 logs the reason, the script and the URL');
    ok t_cmp(scalar(@why), 1, 'once for the one request');
    ok t_cmp(started_markers("$lib"), 0, 'Python is not started in Apache\'s children');
    my @note = log_lines($srv, qr/WSL00162/);
    ok t_cmp(scalar(@note), 1, 'the start-up log says so once (WSL00162)');
    ok t_cmp($note[0] // '', qr/Python is not started in Apache's children/, 'WSL00162 wording');
    ($code) = $srv ? $srv->get('/ht/page.txt') : (0);
    ok t_cmp($code, 500, 'a WSGIAccessScript in .htaccess cannot run: 500');
    ok t_ok(scalar log_lines($srv, qr/WSL00004: Python is not started in this process: WSGIRestrictEmbedded On.*\.htaccess/),
            'WSL00004 says why (.htaccess is read too late to start Python)');
    stop_server($srv, 'WSGIRestrictEmbedded On');
}

# --- (b) WSGIRestrictEmbedded On with an access script --------------------
{
    my $lib = python_lib(marker => 1);
    my $srv = start_server('WSGIRestrictEmbedded On and WSGIAccessScript', <<"CONF");
WSGIRestrictEmbedded On
WSGIPythonPath "$lib"
WSGIScriptAlias /probe "$probe"
<Location /probe>
    WSGIAccessScript "$hooks"
</Location>
CONF
    my ($code) = $srv ? $srv->get('/probe') : (0);
    ok t_cmp($code, 500, 'WSGIRestrictEmbedded On with an access script: the WSGI request still gets 500');
    ok t_cmp(scalar(log_lines($srv, qr/wsl-access-script-ran/)), 1,
             'the access script ran (Python started for it, as in mod_wsgi)');
    ok t_ok(scalar log_lines($srv, qr/WSL00161.*\(for '\/probe'\)/), 'then the content handler refused (WSL00161)');
    ok t_ok(started_markers("$lib") >= 1, 'Python started in the children');
    ok t_ok(scalar log_lines($srv, qr/WSL00162: .*only for the import, access, auth and dispatch scripts/),
            'WSL00162 says Python starts only for those scripts');
    stop_server($srv, 'WSGIRestrictEmbedded On and WSGIAccessScript');
}

# --- (c) configtest ----------------------------------------------------------
{
    my ($rc, $out) = WSLServer->configtest(<<"GOOD");
WSGISwitchInterval 1e-3
WSGIAcceptMutex FCNTL
WSGIDontWriteBytecode off
WSGIPythonEggs /tmp/eggs
<Directory /tmp>
    WSGIRestrictProcess %{GLOBAL} a b
</Directory>
GOOD
    ok t_cmp($rc, 0, '(control) valid spellings pass configtest') or t_debug($out);
    for my $bad (@bad_configs) {
        my ($name, $snippet, $directive, $why) = @$bad;
        ($rc, $out) = WSLServer->configtest($snippet);
        ok t_ok($rc != 0, "configtest fails for $name");
        ok t_cmp($out, qr/\Q$directive\E/, "the message for $name names $directive");
        ok t_cmp($out, $why, "and says why ($name)");
    }
}
