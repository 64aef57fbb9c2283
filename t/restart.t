# restart.t: restart robustness.  The test server goes through five
# graceful restarts (SIGUSR1) and five restarts (SIGHUP) while serving;
# then a server of the test's own with WSGILazyInitialization Off,
# WSGIPythonHome and WSGIPythonOptimize serves, survives graceful restarts,
# loads Flask and Django (on Debian's Python only), and stops promptly
# with every atexit callback of a sub-interpreter run.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use File::Spec ();
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok log_during raw_connect wait_until logs_dir parse_response
               test_port embedded_python debian_python_or_skip);
use WSLServer ();

plan tests => 24, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $port = test_port();
my $json = JSON::PP->new;
# WSGIPythonHome for the server below: the embedded Python's own prefix
# (/usr for Debian's), asked before the restarts.
my $home = embedded_python()->{prefix} // '/usr';

sub main_pid {
    my $file = File::Spec->catfile(logs_dir(), 'httpd.pid');
    open my $fh, '<', $file or return;
    my $pid = <$fh>;
    close $fh;
    return $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}

sub hello_ok {
    my $res = eval { GET('/hello') };
    return $res && $res->code == 200 && $res->content eq 'Hello World';
}

my $crash = qr/Segmentation fault|exit signal|WSL0000[16]:/;

# --- the test server: graceful restarts and restarts while serving ---------------
my $pid = main_pid();
ok t_ok($pid && kill(0, $pid), '(setup) the test server\'s parent pid');
# Apache ignores a restart signal that arrives while it is still re-reading
# its configuration for the previous one (it clears the pending flag when
# the new generation starts), so each signal waits for the new generation
# to be up ("resuming normal operations") and is sent again if it was lost.
sub resumed_count {
    my ($text) = @_;
    my @m = $text =~ /resuming normal operations/g;
    return scalar @m;
}
sub restart_and_wait {
    my ($send, $resumed, $want) = @_;
    for my $try (1 .. 3) {
        $send->();
        return 1 if wait_until(sub { $resumed->() >= $want }, $try == 3 ? 20 : 5);
    }
    return 0;
}
sub error_log_text {
    my $file = File::Spec->catfile(logs_dir(), 'error_log');
    open my $fh, '<', $file or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text // '';
}

my (@lines, $inflight);
for my $sig (('USR1') x 5, ('HUP') x 5) {
    push @lines, log_during(sub {
        # A request in flight across a graceful restart completes.
        my $sock;
        if ($sig eq 'USR1' && !defined $inflight) {
            $sock = raw_connect();
            print $sock "GET /slow?id=inflight&sleep=1.5 HTTP/1.1\r\n"
                . "Host: localhost:$port\r\nConnection: close\r\n\r\n";
            Time::HiRes::sleep(0.3);
        }
        # A restart (SIGHUP) stops the children at once, and the event MPM
        # then closes the sockets its workers are still on from another
        # thread (close_worker_sockets), racing a worker that is just
        # freeing one: Apache's own segfault, seen 2 times in 5 suite runs
        # right after the previous iteration's /hello, with no module code
        # on any thread's stack.  Let that connection end first; anything
        # that does crash is still caught by the checks below.
        Time::HiRes::sleep(0.5) if $sig eq 'HUP';
        my $want = resumed_count(error_log_text()) + 1;
        restart_and_wait(sub { kill $sig, $pid },
                         sub { resumed_count(error_log_text()) }, $want);
        if ($sock) {
            local $/;
            my $data = <$sock>;
            close $sock;
            my $r = parse_response($data // '');
            $inflight = ($r->{status} // 0) . ' ' . ($r->{body} =~ /^(id=\S+)/ ? $1 : '');
        }
    });
    wait_until(\&hello_ok, 20);
}
ok t_cmp($inflight, '200 id=inflight', 'a request in flight across a graceful restart completes');
# event logs "SIGUSR1 received", prefork "Graceful restart requested".
ok t_cmp(scalar(grep /SIGUSR1 received|Graceful restart requested/, @lines), 5, '(setup) five graceful restarts were done');
ok t_cmp(scalar(grep /SIGHUP received/, @lines), 5, '(setup) five restarts were done');
ok t_ok(hello_ok(), 'the test server serves after the restarts');
ok t_ok(kill(0, $pid) && main_pid() == $pid, 'the parent process survived');
my @bad = grep /$crash/, @lines;
ok t_cmp(join('', @bad), '', 'no crash, no WSL00001/WSL00006 in the error log during the restarts');
# Python works in a fresh child after the restarts (sub-interpreter and main).
ok t_cmp(eval { GET_BODY('/interp/ext_a') } // '', qr/"sqlite_sum": 55/,
         'a sub-interpreter with C extensions works after the restarts');
ok t_cmp(eval { GET_BODY('/interp/ext_g') } // '', qr/"sqlite_sum": 55/,
         'the main interpreter with C extensions works after the restarts');

# --- a server of its own: WSGILazyInitialization Off -----------------------------
my $srv = eval {
    WSLServer->start(conf => <<"CONF");
WSGILazyInitialization Off
WSGIPythonHome $home
WSGIPythonOptimize 1
WSGIScriptAlias /sysinfo "$docroot/interp/sysinfo.wsgi"
WSGIScriptAlias /sysinfo_global "$docroot/interp/sysinfo.wsgi" application-group=%{GLOBAL}
WSGIScriptAlias /flask "$docroot/frameworks/flask_app.wsgi"
WSGIScriptAlias /django "$docroot/frameworks/django_app.wsgi"
WSGIScriptAlias /atexit "$docroot/interp/atexit_app.wsgi" application-group=wsl-atexit
<Location /atexit>
    SetEnv WSL_ATEXIT_FILE "\@TMPDIR\@/atexit.log"
</Location>
CONF
};
ok t_ok($srv, '(setup) a server with WSGILazyInitialization Off starts') or t_debug($@);

sub sj {
    my ($path) = @_;
    my ($code, $body) = $srv ? $srv->get($path) : (0, '');
    return eval { $json->decode($body) } || { code => $code, body => $body };
}
my $j = sj('/sysinfo');
ok t_cmp(($j->{optimize} // 'none') . ' ' . ($j->{prefix} // 'none'), "1 $home",
         "WSGIPythonOptimize 1 and WSGIPythonHome $home: sys.flags.optimize and sys.prefix");
$j = sj('/sysinfo_global');
ok t_cmp($j->{optimize} // 'none', 1, 'sys.flags.optimize is 1 in the main interpreter too');

my ($restarts, $served) = (0, 0);
for my $n (1 .. 3) {
    last unless $srv;
    restart_and_wait(sub { $srv->signal('USR1') },
                     sub { resumed_count($srv->log_text) }, $n + 1)
        and $restarts++;
    if (wait_until(sub { ($srv->get('/sysinfo'))[0] == 200 }, 20)) {
        my $x = sj('/sysinfo');
        $served++ if ($x->{optimize} // -1) == 1;
    }
}
ok t_cmp($restarts, 3, '(setup) three graceful restarts');
ok t_cmp($served, 3, 'it serves (optimize 1) after each graceful restart');

# Flask, Django, and an atexit callback in a sub-interpreter.
if (debian_python_or_skip(2, 'Flask and Django (python3-flask, python3-django)')) {
    my ($fcode, $fbody) = $srv ? $srv->get('/flask/') : (0, '');
    ok t_cmp("$fcode $fbody", '200 flask index', 'Flask is served');
    my ($dcode, $dbody) = $srv ? $srv->get('/django/') : (0, '');
    ok t_cmp("$dcode $dbody", '200 django index', 'Django is served');
}
my %registered;
for (1 .. 12) {
    my ($c, $b) = $srv ? $srv->get('/atexit') : (0, '');
    $registered{$1} = 1 if $c == 200 && $b =~ /^registered pid=(\d+) group=wsl-atexit$/;
}
ok t_ok(scalar(keys %registered), '(setup) the atexit app registered its callback');

my @children = $srv ? grep { $_ != $srv->pid } $srv->processes : ();
my $log_before = $srv ? $srv->log_text : '';
my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs, 'all processes of the server are gone after SIGTERM (no SIGKILL from the test)');
# Apache re-signals a child after 3 s and kills it after 9: well under the
# first shows no child waited for Apache's second signal, even on a busy
# machine (the time taken is in the test name; about 0.4 s when idle).
ok t_ok(defined $secs && $secs <= 2.9,
        sprintf('they are gone before Apache would signal again (took %s s)', defined $secs ? sprintf('%.2f', $secs) : 'forever'));
my $log = $srv ? $srv->log_text : '';
ok t_cmp(join('', grep /AH0004[56]|SIGKILL|still did not exit/, split /^/, $log), '',
         'Apache did not have to SIGKILL (or re-signal) any child');
ok t_cmp(join('', grep /$crash/, split /^/, $log), '',
         'no crash, no WSL00001/WSL00006 in its error log');
ok t_ok(@children && !grep({ kill 0, $_ } @children), '(setup) its children were seen, and are gone');
my %ran;
if ($srv && open my $fh, '<', $srv->dir . '/atexit.log') {
    while (<$fh>) { $ran{$1} = 1 if /^atexit pid=(\d+) group=wsl-atexit$/ }
    close $fh;
}
my @missing = grep { !$ran{$_} } sort keys %registered;
ok t_cmp(join(',', @missing), '',
         'the atexit callback registered in a sub-interpreter ran in every child that registered it');
ok t_ok(scalar(keys %ran), '(setup) the atexit file has lines');
