# proc_signal.t: WSGIRestrictSignal.  Under prefork a request runs on
# Python's main thread, so an application's signal.signal(SIGTERM, ...)
# would replace Apache's own handler: a stop would then wait for Apache's
# SIGKILL and old children would survive a graceful restart.  With
# WSGIRestrictSignal On (the default) signal.signal() from an application
# is a logged no-op that returns the handler it was given.
#
# A server of the test's own runs an app (t/htdocs/proc/signals.wsgi) that
# installs handlers for SIGTERM, SIGINT, SIGHUP and SIGUSR1 at import time
# and in every request, in %{GLOBAL} and in a sub-interpreter, in every
# child.  Then: a graceful restart (SIGUSR1) replaces every old child
# within a few seconds, and a stop (SIGTERM) takes well under Apache's 3 s
# re-signal, with no SIGKILL.  A second server has WSGIRestrictSignal Off:
# there signal.signal is Python's own again (prefork: a SIGUSR2 handler is
# installed and signal.getsignal returns it; event: it raises ValueError,
# as Python does off the main thread).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok wait_until expected_mpm daemon_mode);
use WSLServer ();

plan tests => 17, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $mpm = expected_mpm();
my $json = JSON::PP->new;
my $app = "$docroot/proc/signals.wsgi";

sub sj {
    my ($srv, $path) = @_;
    my ($code, $body) = $srv ? $srv->get($path, 10) : (0, '');
    return eval { $json->decode($body) } || { code => $code, body => $body };
}


# Every request on a fresh connection, so every child serves some.
sub take_signals_everywhere {
    my ($srv) = @_;
    my (%pids, @bad, $n);
    for (1 .. 15) {
        for my $path ('/sig', '/sig_sub') {
            my $j = sj($srv, $path);
            next unless $j->{pid};
            $n++;
            $pids{ $j->{pid} } = 1;
            for my $when ('import', 'request') {
                for my $sig (sort keys %{ $j->{$when} || {} }) {
                    my $v = $j->{$when}{$sig};
                    push @bad, "$path $when $sig: $v" if $v ne 'handler';
                }
            }
        }
    }
    return ($n // 0, scalar(keys %pids), \@bad);
}

my $srv = eval {
    WSLServer->start(conf => <<"CONF");
WSGIScriptAlias /sig "$app" application-group=%{GLOBAL}
WSGIScriptAlias /sig_sub "$app" application-group=wsl-proc-signal
CONF
};
ok t_ok($srv, '(setup) a server of its own starts') or t_debug($@);

my ($n, $npids, $bad) = $srv ? take_signals_everywhere($srv) : (0, 0, ['no server']);
ok t_cmp($n, 30, '(setup) all 30 requests answered');
t_debug("served by $npids children");
ok t_cmp(join('; ', @$bad), '',
         'signal.signal() returned the handler it was given, at import and in requests, %{GLOBAL} and sub-interpreter');
my $log = $srv ? $srv->log_text : '';
ok t_ok(scalar($log =~ /WSL00013: signal\.signal\(15\) by the application ignored \(WSGIRestrictSignal On\)/),
        'the ignored signal.signal(SIGTERM) is logged (WSL00013)');
ok t_ok(scalar($log =~ /WSL00013: signal\.signal\(10\) by the application ignored/),
        'so is SIGUSR1\'s');

# A graceful restart replaces every old child.
my @old = $srv ? $srv->children : ();
ok t_ok(scalar(@old), '(setup) the children were seen');
$srv->signal('USR1') if $srv;
my $t0 = Time::HiRes::time();
my $gone = wait_until(sub { !grep { kill 0, $_ } @old }, 6);
my $took = Time::HiRes::time() - $t0;
ok t_ok($gone, sprintf('every old child is gone after a graceful restart (%.2f s)', $took));
ok t_ok($srv && wait_until(sub { ($srv->get('/sig', 5))[0] == 200 }, 15),
        'the server serves after the graceful restart');
($n, $npids, $bad) = $srv ? take_signals_everywhere($srv) : (0, 0, ['no server']);
ok t_cmp(join('; ', @$bad), '', 'the new children ignore signal.signal() too');

# A stop is prompt: no child kept a Python handler for SIGTERM.
my @kids = $srv ? $srv->children : ();
my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs && $secs <= 2.5,
        sprintf('every process is gone well before Apache would re-signal (took %s s)',
                defined $secs ? sprintf('%.2f', $secs) : 'forever'));
$log = $srv ? $srv->log_text : '';
ok t_cmp(join('', grep /AH0004[56]|SIGKILL|still did not exit/, split /^/, $log), '',
         'Apache did not have to re-signal or SIGKILL any child');
ok t_cmp(join('', grep /Segmentation fault|Fatal Python error|exit signal/, split /^/, $log), '',
         'no crash in its error log');
ok t_ok(@kids && !grep({ kill 0, $_ } @kids), '(setup) its children were seen, and are gone');

# --- WSGIRestrictSignal Off: Python's own signal.signal ----------------------------
my $off = eval {
    WSLServer->start(conf => <<"CONF");
WSGIRestrictSignal Off
WSGIScriptAlias /sig "$app" application-group=%{GLOBAL}
CONF
};
ok t_ok($off, '(setup) a server with WSGIRestrictSignal Off starts') or t_debug($@);
my $j = $off ? sj($off, '/sig?install=USR2') : {};
# A daemon's requests run in its worker threads, never its main thread.
if ($mpm eq 'prefork' && !daemon_mode()) {
    ok t_cmp($j->{usr2} // '', 'installed',
             'Off, prefork: signal.signal(SIGUSR2) installs the handler; getsignal returns it');
}
else {
    ok t_cmp($j->{usr2} // '', qr/^ValueError: .*main thread/,
             "Off, $mpm: Python's own signal.signal (ValueError off the main thread)");
}
$off->stop(15) if $off;
ok t_cmp(join('', grep /WSL00013:/, split /^/, $off ? $off->log_text : ''), '',
         'Off: nothing is logged as ignored');

# Server scope only, as WSGIRestrictStdout.
my ($rc, $out) = WSLServer->configtest(
    "<VirtualHost 127.0.0.1:80>\n    WSGIRestrictSignal Off\n</VirtualHost>\n");
ok t_ok($rc != 0 && $out =~ /WSGIRestrictSignal/,
        'WSGIRestrictSignal inside a <VirtualHost> is a configuration error');
