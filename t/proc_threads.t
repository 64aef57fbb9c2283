# proc_threads.t: a child exits cleanly, and promptly, with application
# threads still running.  At child exit the threads get a grace period of
# 1 s; then every sub-interpreter left with only the module's own thread
# states is ended (its atexit callbacks run), and if any interpreter still
# has other Python threads (any in a sub-interpreter, a non-daemon one in
# the main interpreter) Python is not finalised: one WSL00014 warning
# names each group and the threads left, and the process exits with them
# frozen.
#
# Server M of the test's own: apps (t/htdocs/proc/threads.wsgi) in two
# sub-interpreters and in %{GLOBAL} start daemon threads and non-daemon
# threads that loop forever, a third sub-interpreter only a thread that
# ends within 0.2 s.  A graceful restart replaces every old child within
# a few seconds; a stop takes well under Apache's 3 s re-signal; no
# "Fatal Python error", segfault or "remaining subinterpreters"; the
# warning lists exactly what each child left; the short group's atexit
# callback ran.  Server S has only short threads (and a daemon thread in
# %{GLOBAL}): Python is finalised normally, every atexit callback runs.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Time::HiRes ();
use WSLTest qw(t_ok wait_until);
use WSLServer ();

plan tests => 21, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/proc/threads.wsgi";
my $crash = qr/Fatal Python error|Segmentation fault|remaining subinterpreters|exit signal|not the last thread/;
my $resignal = qr/AH0004[56]|SIGKILL|still did not exit/;


sub lines_matching {
    my ($text, $re) = @_;
    return join '', grep /$re/, split /^/, $text;
}

# Each URL six times on fresh connections; what each child started.
sub populate {
    my ($srv, @paths) = @_;
    my (%served, $n);
    for (1 .. 6) {
        for my $p (@paths) {
            my ($code, $body) = $srv->get($p, 5);
            # A server that stopped answering fails the count at once.
            return ($n // 0, \%served)
                unless $code == 200 && $body =~ /^pid=(\d+) group=(\S+) kind=(\w+)/;
            $n++;
            $served{$1}{"$2 $3"}++;
        }
    }
    return ($n // 0, \%served);
}

# What WSL00014 should say for a child: "'group' (N thread[s])" for each
# sub-interpreter left with threads, "%{GLOBAL} (N threads, M non-daemon)".
sub expected_left {
    my ($s) = @_;
    my @want;
    for my $g ('wsl-thr-daemon', 'wsl-thr-nondaemon') {
        my $k = $g =~ /nondaemon/ ? 'nondaemon' : 'daemon';
        my $n = $s->{"$g $k"} or next;
        push @want, "application group '$g' ($n thread" . ($n > 1 ? 's' : '') . ')';
    }
    my $gd = $s->{'%{GLOBAL} daemon'} // 0;
    my $gn = $s->{'%{GLOBAL} nondaemon'} // 0;
    # Daemon threads alone in %{GLOBAL} do not stop Python finalising (it
    # finalises with them): a child that served no other thread-leaving
    # request logs no WSL00014 at all.
    return @want unless @want || $gn;
    push @want, sprintf('%%{GLOBAL} (%d thread%s, %d non-daemon)',
                        $gd + $gn, $gd + $gn > 1 ? 's' : '', $gn) if $gd + $gn;
    return @want;
}

sub check_warnings {
    my ($log, $served) = @_;
    my @bad;
    for my $pid (sort keys %$served) {
        my @want = expected_left($served->{$pid});
        my ($line) = grep /\[pid $pid\b.*WSL00014:/, split /^/, $log;
        if (!@want) {
            push @bad, "pid $pid: unexpected $line" if $line;
            next;
        }
        if (!$line) { push @bad, "pid $pid: no WSL00014"; next }
        for my $w (@want) {
            push @bad, "pid $pid: '$w' not in: $line" if index($line, $w) < 0;
        }
        push @bad, "pid $pid: short group listed: $line" if $line =~ /wsl-thr-short/;
    }
    return join "\n", @bad;
}

sub atexit_ran {
    my ($srv) = @_;
    my %ran;
    if (open my $fh, '<', $srv->dir . '/atexit.log') {
        while (<$fh>) { $ran{"$1 $2"} = 1 if /^atexit pid=(\d+) group=(\S+)$/ }
        close $fh;
    }
    return \%ran;
}

my @mixed = ('/sub_daemon?kind=daemon', '/sub_nondaemon?kind=nondaemon',
             '/sub_short?kind=short', '/glob_daemon?kind=daemon',
             '/glob_nondaemon?kind=nondaemon');
my $srv = eval {
    WSLServer->start(conf => <<"CONF");
SetEnv WSL_MARKER_DIR "\@TMPDIR\@"
WSGIScriptAlias /sub_daemon "$app" application-group=wsl-thr-daemon
WSGIScriptAlias /sub_nondaemon "$app" application-group=wsl-thr-nondaemon
WSGIScriptAlias /sub_short "$app" application-group=wsl-thr-short
WSGIScriptAlias /glob_daemon "$app" application-group=%{GLOBAL}
WSGIScriptAlias /glob_nondaemon "$app" application-group=%{GLOBAL}
CONF
};
ok t_ok($srv, '(setup) server M starts') or t_debug($@);

# --- graceful restart with threads running -------------------------------------
my ($n, $served) = $srv ? populate($srv, @mixed) : (0, {});
ok t_cmp($n, 30, '(setup) server M: all 30 requests answered');
my @old = $srv ? $srv->children : ();
$srv->signal('USR1') if $srv;
my $t0 = Time::HiRes::time();
my $gone = wait_until(sub { !grep { kill 0, $_ } @old }, 8);
my $took = Time::HiRes::time() - $t0;
ok t_ok(@old && $gone && $took <= 4,
        sprintf('graceful restart: every old child is gone (%.2f s)', $took));
ok t_ok($srv && wait_until(sub { ($srv->get('/sub_short', 5))[0] == 200 }, 15),
        'server M serves after the graceful restart');
my $log = $srv ? $srv->log_text : '';
ok t_cmp(lines_matching($log, $crash), '', 'graceful restart: no crash, no Fatal Python error');
ok t_cmp(check_warnings($log, $served), '',
         'graceful restart: each old child\'s WSL00014 names every group left and its threads');
my $ran = $srv ? atexit_ran($srv) : {};
my @short = grep { $served->{$_}{'wsl-thr-short short'} } keys %$served;
ok t_cmp(join(',', grep { !$ran->{"$_ wsl-thr-short"} } sort @short), '',
         'graceful restart: the sub-interpreter with only a short thread was ended (atexit ran)');
ok t_cmp(join(',', grep { $ran->{"$_ wsl-thr-daemon"}
                           || ($ran->{"$_ %{GLOBAL}"} && expected_left($served->{$_})) }
               sort keys %$served), '',
         'graceful restart: the interpreters left with threads were not finalised');

# --- stop with threads running ----------------------------------------------------
($n, $served) = $srv ? populate($srv, @mixed) : (0, {});
ok t_cmp($n, 30, '(setup) server M after the restart: all 30 requests answered');
my @kids = $srv ? $srv->children : ();
my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs && $secs <= 2.5,
        sprintf('stop: every process is gone within 2.5 s of SIGTERM (took %s s)',
                defined $secs ? sprintf('%.2f', $secs) : 'forever'));
$log = $srv ? $srv->log_text : '';
ok t_cmp(lines_matching($log, $resignal), '', 'stop: Apache did not re-signal or SIGKILL any child');
ok t_cmp(lines_matching($log, $crash), '', 'stop: no crash, no Fatal Python error');
t_debug($_) for grep /WSL00014:/, split /^/, $log;
ok t_cmp(check_warnings($log, $served), '',
         'stop: each child\'s WSL00014 names every group left and its threads');
ok t_ok(@kids && !grep({ kill 0, $_ } @kids), '(setup) server M\'s children were seen, and are gone');
$ran = $srv ? atexit_ran($srv) : {};
@short = grep { $served->{$_}{'wsl-thr-short short'} } keys %$served;
ok t_cmp(join(',', grep { !$ran->{"$_ wsl-thr-short"} } sort @short), '',
         'stop: the sub-interpreter with only a short thread was ended (atexit ran)');

# --- only short threads (and a daemon one in %{GLOBAL}): a normal finalisation -----
my $srv2 = eval {
    WSLServer->start(conf => <<"CONF");
SetEnv WSL_MARKER_DIR "\@TMPDIR\@"
WSGIScriptAlias /sub_short "$app" application-group=wsl-thr-short
WSGIScriptAlias /glob_short "$app" application-group=%{GLOBAL}
WSGIScriptAlias /glob_daemon "$app" application-group=%{GLOBAL}
CONF
};
ok t_ok($srv2, '(setup) server S starts') or t_debug($@);
my ($n2, $served2) = $srv2 ? populate($srv2, '/sub_short?kind=short', '/glob_short?kind=short',
                                      '/glob_daemon?kind=daemon') : (0, {});
ok t_cmp($n2, 18, '(setup) server S: all 18 requests answered');
my $secs2 = $srv2 ? $srv2->stop(15) : undef;
ok t_ok(defined $secs2 && $secs2 <= 2.5,
        sprintf('S: stop within 2.5 s (took %s s)', defined $secs2 ? sprintf('%.2f', $secs2) : 'forever'));
my $log2 = $srv2 ? $srv2->log_text : '';
ok t_cmp(lines_matching($log2, qr/$crash|$resignal|WSL0001[4]:|WSL00006:/), '',
         'S: no crash, no re-signal, no WSL00014 or WSL00006');
my $ran2 = $srv2 ? atexit_ran($srv2) : {};
my @missing;
for my $pid (sort keys %$served2) {
    push @missing, "$pid wsl-thr-short" if $served2->{$pid}{'wsl-thr-short short'} && !$ran2->{"$pid wsl-thr-short"};
    push @missing, "$pid %{GLOBAL}" if !$ran2->{"$pid %{GLOBAL}"}
        && ($served2->{$pid}{'%{GLOBAL} short'} || $served2->{$pid}{'%{GLOBAL} daemon'});
}
ok t_cmp(join(', ', @missing), '',
         'S: Python was finalised in every child: the atexit callbacks of the sub-interpreter and of %{GLOBAL} ran');
ok t_ok(scalar(keys %$ran2), '(setup) S: the atexit file has lines');
