# daemon_lifecycle.t: the daemon lifecycle options acted on (issue 17),
# on a server of the test's own (t/lib/WSLServer.pm) with one group per
# option, the app t/htdocs/daemon/life.wsgi (?sleep=S; answers with its
# pid):
#   - maximum-requests=5: twelve requests one after another, all 200, in
#     three processes in turn (WSL00189 "maximum-requests=5 reached");
#     then 4 clients x 10 requests at once, none failed; a request
#     running when the limit comes finishes (graceful);
#   - request-timeout=2: a request that sleeps 30 s gets a 504 after
#     about 2 s (WSL00201 in the child), the daemon logs its URI and its
#     thread's Python stack, naming the function it is stuck in
#     (WSL00200), and is recycled: a request that began beside it still
#     ends 200, the next is served by another process;
#   - queue-timeout=1 (threads=1): a request that waits behind a 3 s one
#     for longer than 1 s gets a 503 unrun (WSL00202);
#   - restart-interval=2 and inactivity-timeout=2: the process is
#     replaced after 2 s (of life, of idleness), each logged with why;
#   - memory-limit=100000000, virtual-memory-limit=2000000000 and
#     cpu-time-limit=1: a request that keeps 110 MiB, maps 2.4 GiB or
#     spends 1.5 s of CPU ends 200, then the process is recycled with why,
#     replacement first (WSL00189), and the next request is served by its
#     replacement; one that keeps 160 MiB (past 1.5 x memory-limit) has
#     the process stop taking requests at once;
#   - a request that passes request-timeout while its process is already
#     stopping (SIGWINCH, graceful-timeout=10) does not hold the process
#     for graceful-timeout: it exits at once, logged;
#   - deadlock-timeout=2: a request that keeps the GIL 6 s (in C, through
#     ctypes.PyDLL) gets the process recycled with why, the next request
#     is served by its replacement; one that sleeps 4 s with the GIL let
#     go is no deadlock;
#   - startup-timeout=2: a script that fails to load gets a 500 and the
#     process recycled with why;
#   - eviction-timeout=3: SIGUSR1 (mod_wsgi's graceful restart of one
#     process) with a 2 s request running: requests are still taken, the
#     running one ends 200, then the process stops, idle; with
#     eviction-timeout=1 and a 6 s request, it stops at 1 s, the request
#     cut (502) after shutdown-timeout=1, each logged with why;
#   - mod_status (server-status, ?auto) shows each process: its pid,
#     state, requests served, running and queued, the connections
#     waiting in the group's socket, and recycles with why; so does
#     process_metrics()['daemon_group'] in the daemon;
#   - Apache's graceful restart (SIGUSR1): a 7 s request running in a
#     daemon (longer than shutdown-timeout=5) ends 200, requests sent
#     meanwhile are all answered, the next configuration's process serves
#     on the same socket;
#   - WSL00170 no longer names any of these options.
#   - a daemon never outlives Apache: with Apache's parent killed
#     (SIGKILL), daemons whose main thread is stuck in an atexit handler,
#     in a WSGIImportScript, or whose request sleeps in C, are all gone
#     within shutdown-timeout and a few seconds (WSL00215), on a server of
#     their own (app t/htdocs/daemon/stuck_stop.wsgi).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use WSLTest qw(t_ok wait_until diag);
use WSLServer ();

plan tests => 79, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/daemon/life.wsgi";
my $json = JSON::PP->new;

sub pid_of { my $j = eval { $json->decode($_[0] // '') }; return ref $j eq 'HASH' ? $j->{pid} : undef }

sub log_lines {
    my ($srv, $re) = @_;
    return grep /$re/, split /\n/, ($srv ? $srv->log_text : '');
}

# Requests from $clients processes at once, $each apiece: the statuses
# and pids, one "status pid" line per request.
sub in_parallel {
    my ($srv, $path, $clients, $each) = @_;
    my @kids = map { client($srv, $path, $each, 30) } 1 .. $clients;
    return map { collect($_) } @kids;
}

my $srv = eval {
    WSLServer->start(embedded => 1, conf => <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
Timeout 20
<IfModule !status_module>
    LoadModule status_module /usr/lib/apache2/modules/mod_status.so
</IfModule>
<Location /server-status>
    SetHandler server-status
</Location>
WSGIDaemonProcess mr processes=1 threads=4 maximum-requests=5
WSGIDaemonProcess rt processes=1 threads=4 request-timeout=2 graceful-timeout=10
WSGIDaemonProcess qt processes=1 threads=1 queue-timeout=1
WSGIDaemonProcess ri processes=1 threads=1 restart-interval=2
WSGIDaemonProcess it processes=1 threads=1 inactivity-timeout=2
WSGIDaemonProcess ml processes=1 threads=1 memory-limit=100000000
WSGIDaemonProcess vl processes=1 threads=1 virtual-memory-limit=2000000000
WSGIDaemonProcess cl processes=1 threads=1 cpu-time-limit=1
WSGIDaemonProcess dl processes=1 threads=2 deadlock-timeout=2
WSGIDaemonProcess dn processes=1 threads=2 deadlock-timeout=2
WSGIDaemonProcess st processes=1 threads=1 startup-timeout=2
WSGIDaemonProcess ev processes=1 threads=2 eviction-timeout=3
WSGIDaemonProcess kl processes=1 threads=1
WSGIDaemonProcess ho processes=1 threads=2 maximum-requests=20
WSGIDaemonProcess gr processes=1 threads=4
WSGIImportScript "$docroot/daemon/slow_import.py" process-group=ho application-group=%{GLOBAL}
WSGIDaemonProcess ed processes=1 threads=1 eviction-timeout=1 shutdown-timeout=1
WSGIScriptAlias /mr "$app" process-group=mr
WSGIScriptAlias /rt "$app" process-group=rt
WSGIScriptAlias /qt "$app" process-group=qt
WSGIScriptAlias /ri "$app" process-group=ri
WSGIScriptAlias /it "$app" process-group=it
WSGIScriptAlias /ml "$app" process-group=ml
WSGIScriptAlias /vl "$app" process-group=vl
WSGIScriptAlias /cl "$app" process-group=cl
WSGIScriptAlias /dl "$app" process-group=dl
WSGIScriptAlias /dn "$app" process-group=dn
WSGIScriptAlias /st "$docroot/daemon/broken_start.wsgi" process-group=st
WSGIScriptAlias /ev "$app" process-group=ev
WSGIScriptAlias /kl "$app" process-group=kl
WSGIScriptAlias /ho "$app" process-group=ho
WSGIScriptAlias /gr "$app" process-group=gr
WSGIScriptAlias /ed "$app" process-group=ed
CONF
};
ok t_ok($srv, '(setup) a server with a daemon group per lifecycle option starts') or diag($@);

# --- maximum-requests ---------------------------------------------------------
# Requests one after another until a third process answers: a process
# past its fifth goes on serving until its replacement serves (the
# replacement starts first), so each serves five or more.
my (@codes, @pids, %served, @order);
my $until = Time::HiRes::time() + 30;
while ($srv && Time::HiRes::time() < $until) {
    my ($code, $body) = $srv->get('/mr', 30);
    my $p = pid_of($body) // 0;
    push @codes, $code;
    push @pids, $p;
    push @order, $p unless $served{$p}++;
    last if @order >= 3;
    Time::HiRes::sleep(0.01);
}
ok t_cmp(join(' ', grep { $_ != 200 } @codes), '',
         'maximum-requests=5: requests in a row across two recycles, all 200');
# (While one hands over, both may answer for a moment.)
ok t_ok(@order >= 3 && !grep({ $served{$_} < 5 } @order[0 .. $#order - 1]),
        'five requests or more per process, then another process')
    or diag(join ' ', map { "$_ x $served{$_}" } @order);
ok t_ok(wait_until(sub { scalar(log_lines($srv, qr/WSL00189: .*WSGIDaemonProcess mr stopping \(maximum-requests=5 reached\)/)) >= 2 }, 10),
        'each recycle logged: "stopping (maximum-requests=5 reached)"');
{
    # The order in the log: the replacement serves, then the old one stops.
    my $text = $srv ? $srv->log_text : '';
    my $p0 = $order[0] // 0;
    my $asked = index($text, "daemon process $p0 of WSGIDaemonProcess mr recycled (maximum-requests=5 reached): serving until its replacement does");
    my $in_place = $text =~ /WSL00189: daemon process (\d+) of WSGIDaemonProcess mr serving in place of $p0\b/ ? $-[0] : -1;
    my $stopped = index($text, "daemon process $p0 of WSGIDaemonProcess mr stopping (maximum-requests=5 reached)");
    ok t_ok($asked >= 0 && $in_place > $asked && $stopped > $in_place,
            'the replacement serves before the recycled process stops: "recycled ... serving until its replacement does", "serving in place of", then "stopping"')
        or diag("asked $asked, in place $in_place, stopped $stopped");
}

# The replacement first: a group whose processes take 1.5 s to start
# (WSGIImportScript), recycled every 20 requests; requests one after
# another for 8 s never wait for a start-up.
{
    my (@lat, @hpids, @hcodes);
    my $stop = Time::HiRes::time() + 8;
    while ($srv && Time::HiRes::time() < $stop) {
        my $t = Time::HiRes::time();
        my ($c, $b) = $srv->get('/ho', 30);
        push @lat, Time::HiRes::time() - $t;
        push @hcodes, $c;
        push @hpids, pid_of($b) // 0;
        Time::HiRes::sleep(0.02);
    }
    my %hseen = map { $_ => 1 } @hpids;
    my ($longest) = sort { $b <=> $a } @lat;
    ok t_cmp(join(' ', grep { $_ != 200 } @hcodes), '',
             'maximum-requests=20 with a 1.5 s WSGIImportScript: ' . scalar(@hcodes) . ' requests in a row, all 200');
    ok t_ok(keys(%hseen) >= 2, 'served by ' . scalar(keys %hseen) . ' processes in turn');
    ok t_ok(defined $longest && $longest < 1.0,
            sprintf('no request waited for a process to start: the longest took %.3f s (a start takes 1.5 s)', $longest // -1));
}

# The status page, after those recycles.
sub status_line {
    my ($srv, $key) = @_;
    my ($code, $body) = $srv ? $srv->get('/server-status?auto', 10) : (0, '');
    my ($line) = ($body // '') =~ /^\Q$key\E: (.*)$/m;
    return $line // '';
}
{
    my $line = '';
    wait_until(sub { $line = status_line($srv, 'WSGIDaemonProcess.mr.1');
                     $line =~ /\brecycles=([2-9]|\d\d)/ }, 10);
    my ($recycles) = $line =~ /\brecycles=(\d+)/;
    my ($spid) = $line =~ /\bpid=(\d+)/;
    ok t_ok(($spid // 0) == $pids[-1] && $line =~ /\bstate=serving\b/ && $line =~ /\bserved=[1-9]/,
            'server-status?auto: the group\'s process, its pid, state and requests served') or diag($line);
    ok t_ok(($recycles // 0) >= 2 && $line =~ /\blast_recycle="maximum-requests=5 reached"/,
            'its recycles, and why the last process stopped') or diag($line);
    my ($hc, $html) = $srv ? $srv->get('/server-status', 10) : (0, '');
    ok t_ok($hc == 200 && $html =~ m{<h2>mod_wsgi_lite daemon processes</h2>}
            && $html =~ m{<tr><td>mr</td><td>1</td><td>$spid</td><td>serving</td>},
            'the HTML page has the table, a row per process') or diag($html);
    my ($mc, $mb) = $srv ? $srv->get('/mr?metrics', 10) : (0, '');
    my $m = eval { $json->decode($mb) } // {};
    my $dg = $m->{daemon_group} // {};
    my ($me) = grep { ($_->{pid} // 0) == ($m->{pid} // -1) } @{ $dg->{processes} // [] };
    ok t_ok(($dg->{name} // '') eq 'mr' && $me && $me->{state} eq 'serving'
            && $me->{active_requests} == 1 && $me->{recycles} >= 2
            && $me->{last_recycle} eq 'maximum-requests=5 reached'
            && defined $dg->{backlog},
            'process_metrics() in the daemon: daemon_group, the same figures') or diag($mb);
}

# Each takes 20 ms or more: the 240 last long enough for recycles (a
# replacement is started within a second of being asked for).
my @par = $srv ? in_parallel($srv, '/mr?sleep=0.02', 4, 60) : ();
my @bad = grep { !/^200 \d+$/ } @par;
ok t_cmp(scalar(@par), 240, '4 clients x 60 requests at once: all answered');
ok t_cmp(join(', ', @bad), '', 'none failed while processes were recycled under them');
my %par_pids = map { (split / /)[1] => 1 } @par;
ok t_ok(keys(%par_pids) >= 2, 'in two processes at least (each serves on until its replacement does)')
    or diag(join ' ', sort keys %par_pids);

# A request running when the limit comes is let finish (graceful-timeout).
{
    my ($slow) = $srv ? client($srv, '/mr?sleep=2') : ();
    Time::HiRes::sleep(0.3);
    my @quick = map { ($srv->get('/mr', 30))[0] } 1 .. 5;
    my ($code) = $slow ? finish($slow) : (0);
    ok t_cmp("$code @quick", '200 200 200 200 200 200',
             'a 2 s request running as the process reaches maximum-requests ends 200, so do the requests beside it');
}

# --- request-timeout ---------------------------------------------------------------
# The stuck request at 0 s; beside it, from 1 s, one of 1.5 s: it runs
# when the stuck one is found (2 s), and must be let finish.
my $t0 = Time::HiRes::time();
my $stuck_req = $srv ? client($srv, '/rt?sleep=30') : undef;
Time::HiRes::sleep(1);
my ($beside) = $srv ? client($srv, '/rt?sleep=1.5') : ();
my ($code) = $stuck_req ? finish($stuck_req) : (0);
my $took = Time::HiRes::time() - $t0;
ok t_cmp($code, 504, 'request-timeout=2: a request that sleeps 30 s gets a 504');
ok t_ok($took > 1.5 && $took < 6, 'after about 2 s') or diag("took $took s");
my ($beside_code, $beside_pid) = $beside ? finish($beside) : (0, 0);
ok t_cmp($beside_code, 200, 'a 1.5 s request running beside it in the same process when it is found ends 200');
ok t_ok(wait_until(sub { log_lines($srv, qr{WSL00201: WSGIDaemonProcess rt: the response to '/rt' did not end within request-timeout=2: 504}) }, 10),
        'the child logs WSL00201 with the URI');
ok t_ok(wait_until(sub { log_lines($srv, qr{WSL00200: daemon process \d+ of WSGIDaemonProcess rt: the request for '/rt' has run [\d.]+ s, past request-timeout=2; .*Python stack follows$}) }, 10),
        'the daemon logs WSL00200 with the URI') or diag($srv->log_text);
ok t_ok(log_lines($srv, qr{WSL00200:   File ".*/life\.wsgi", line \d+, in stuck_in_sleep$}),
        'with the stuck thread\'s Python stack, a log entry per line, naming the function it sleeps in')
    or diag(join "\n", log_lines($srv, qr/WSL00200/));
ok t_ok(wait_until(sub { log_lines($srv, qr/WSGIDaemonProcess rt stopping \(request-timeout=2 passed\)/) }, 10),
        'the process is recycled for it');
my ($next_code, $next_body) = $srv ? $srv->get('/rt', 30) : (0, '');
ok t_cmp($next_code, 200, 'the next request is served') or diag($srv->log_text);
ok t_ok(pid_of($next_body) && $beside_pid && pid_of($next_body) != $beside_pid,
        'by another process');

# --- queue-timeout -----------------------------------------------------------------
my ($busy) = $srv ? client($srv, '/qt?sleep=3') : ();
Time::HiRes::sleep(0.3);
my $waiting = $srv ? client($srv, '/qt') : undef;
Time::HiRes::sleep(0.5);
{
    my $p = status_line($srv, 'WSGIDaemonProcess.qt.1');
    my $g = status_line($srv, 'WSGIDaemonGroup.qt');
    my ($queued) = $p =~ /\bqueued=(\d+)/;
    my ($backlog) = $g =~ /\bbacklog=(\d+)/;
    ok t_ok($p =~ /\bactive=1\b/ && ($queued // 0) + ($backlog // 0) == 1,
            'server-status?auto while one request runs (threads=1) and one waits: active=1, and the one waiting, queued in the process or in the group\'s socket (backlog)')
        or diag("$p\n$g");
}
my ($q_code) = $waiting ? finish($waiting) : (0);
my ($busy_code) = $busy ? finish($busy) : (0);
ok t_cmp("$busy_code $q_code", '200 503',
         'queue-timeout=1 (threads=1): behind a 3 s request, the next waits too long: 503, the first ends 200');
ok t_ok(log_lines($srv, qr{WSL00202: WSGIDaemonProcess qt: the request for '/qt' waited [\d.]+ s for a free thread, longer than queue-timeout=1: 503, not run}),
        'logged (WSL00202), not run');
ok t_cmp(($srv ? $srv->get('/qt', 30) : (0))[0], 200, 'the next request, not queued, is served');

# --- restart-interval, inactivity-timeout --------------------------------------------
for my $case (['ri', 'restart-interval=2 passed'],
              ['it', 'inactivity-timeout=2: no request for \d+ s']) {
    my ($g, $why) = @$case;
    # The process has been recycled already, every 2 s: a new recycle
    # is one more line.
    my $before = () = log_lines($srv, qr/WSGIDaemonProcess $g stopping \($why\)/);
    my ($c1, $b1) = $srv ? $srv->get("/$g", 30) : (0, '');
    my $seen = wait_until(sub { log_lines($srv, qr/WSGIDaemonProcess $g stopping \($why\)/) > $before }, 10);
    ok t_ok($seen, "$g: the process is recycled, logged with why ($why)");
    my ($c2, $b2) = $srv ? $srv->get("/$g", 30) : (0, '');
    ok t_ok($c1 == 200 && $c2 == 200 && pid_of($b1) && pid_of($b2) && pid_of($b1) != pid_of($b2),
            "$g: requests before and after are served, by two processes")
        or diag("$c1 $b1 / $c2 $b2");
}

# --- memory-limit, virtual-memory-limit, cpu-time-limit ---------------------------
for my $case (['ml', 'grow=110', 'memory-limit=100000000 passed: \d+ bytes resident'],
              ['vl', 'map=2400', 'virtual-memory-limit=2000000000 passed: \d+ bytes of address space'],
              ['cl', 'spin=1.5', 'cpu-time-limit=1 passed: [\d.]+ s of CPU']) {
    my ($g, $ask, $why) = @$case;
    my ($c0, $b0) = $srv ? $srv->get("/$g", 30) : (0, '');
    my ($c1, $b1) = $srv ? $srv->get("/$g?$ask", 30) : (0, '');
    ok t_ok($c0 == 200 && $c1 == 200 && pid_of($b0) && pid_of($b0) == pid_of($b1),
            "$g: under the limit a request is served; the one that passes it ($ask) ends 200 too")
        or diag("$c0 $b0 / $c1 $b1");
    my $seen = wait_until(sub { log_lines($srv, qr/WSGIDaemonProcess $g stopping \($why\)/) }, 10);
    my $p1 = pid_of($b1) // 0;
    ok t_ok($seen && scalar log_lines($srv, qr/daemon process $p1 of WSGIDaemonProcess $g recycled \($why\): serving until its replacement does/),
            "$g: the process is recycled, replacement first, logged with why ($why)")
        or diag(join "\n", log_lines($srv, qr/WSGIDaemonProcess $g/));
    my ($c2, $b2) = $srv ? $srv->get("/$g", 30) : (0, '');
    ok t_ok($c2 == 200 && pid_of($b2) && pid_of($b2) != pid_of($b1),
            "$g: the next request is served by the replacement")
        or diag("$c2 $b2");
}

# Past 1.5 x memory-limit a process does not serve on while its
# replacement starts: it stops taking requests at once.
{
    my ($c0, $b0) = $srv ? $srv->get('/ml', 30) : (0, '');
    my ($c1, $b1) = $srv ? $srv->get('/ml?grow=160', 30) : (0, '');
    my $p1 = pid_of($b1) // 0;
    my $seen = wait_until(sub { log_lines($srv, qr/daemon process $p1 of WSGIDaemonProcess ml stopping \(memory-limit=100000000 passed/) }, 10);
    ok t_ok($c1 == 200 && $seen && !log_lines($srv, qr/daemon process $p1 of WSGIDaemonProcess ml recycled/),
            'ml: a process past 1.5 x memory-limit (grow=160) stops at once, not serving on until its replacement does')
        or diag(join "\n", log_lines($srv, qr/WSGIDaemonProcess ml/));
    my ($c2, $b2) = $srv ? $srv->get('/ml', 30) : (0, '');
    ok t_ok($c2 == 200 && pid_of($b2) && pid_of($b2) != $p1, 'ml: and the next request is served by another')
        or diag("$c2 $b2");
}

# A request that passes request-timeout while its process is already
# stopping (here: Apache's SIGWINCH, graceful-timeout=10) is stuck: the
# process exits without waiting graceful-timeout for it.
sub gone {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$fh> // '';
    return $stat =~ /\) Z /;
}
{
    my ($c0, $b0) = $srv ? $srv->get('/rt', 30) : (0, '');
    my $p0 = pid_of($b0) // 0;
    my $stuck = $srv ? $srv->spawn(GET => '/rt?sleep=20', timeout => 30) : undef;
    Time::HiRes::sleep(0.5);
    my $t0 = Time::HiRes::time();
    kill 'WINCH', $p0 if $p0;
    my $went = $p0 && wait_until(sub { gone($p0) }, 8);
    my $took = Time::HiRes::time() - $t0;
    ok t_ok($went && $took < 6,
            'request-timeout=2 passed by a request while its process stops (graceful-timeout=10): the process exits at once then')
        or diag("gone $went after $took s: " . join "\n", log_lines($srv, qr/WSGIDaemonProcess rt/));
    ok t_ok(log_lines($srv, qr/WSL00200: daemon process $p0 of WSGIDaemonProcess rt: the request for '\/rt' has run/)
            && scalar log_lines($srv, qr/daemon process $p0 of WSGIDaemonProcess rt: requests still running after request-timeout \(stuck\)/),
            'logged with its URI, and why the process did not wait')
        or diag(join "\n", log_lines($srv, qr/WSGIDaemonProcess rt/));
    WSLServer::reap($stuck) if $stuck;
}

# --- deadlock-timeout, startup-timeout ------------------------------------------------
{
    my ($c0, $b0) = $srv ? $srv->get('/dl', 30) : (0, '');
    my $held = $srv ? $srv->spawn(GET => '/dl?gilsleep=6', timeout => 30) : undef;
    my $seen = wait_until(sub { log_lines($srv, qr/WSGIDaemonProcess dl stopping \(deadlock-timeout=2 passed: the GIL of the main interpreter has not been free for \d+ s\)/) }, 12);
    ok t_ok($seen, 'deadlock-timeout=2: a request that keeps the GIL for 6 s gets the process recycled, logged with why')
        or diag(join "\n", log_lines($srv, qr/WSGIDaemonProcess dl/));
    WSLServer::reap($held) if $held;
    my ($c1, $b1) = $srv ? $srv->get('/dl', 30) : (0, '');
    ok t_ok($c0 == 200 && $c1 == 200 && pid_of($b0) != pid_of($b1),
            'deadlock-timeout: the next request is served by the replacement') or diag("$c0 $b0 / $c1 $b1");
    my ($d0, $e0) = $srv ? $srv->get('/dn', 30) : (0, '');
    my ($d1) = $srv ? $srv->get('/dn?sleep=4', 30) : (0);
    my ($d2, $e2) = $srv ? $srv->get('/dn', 30) : (0, '');
    ok t_ok($d0 == 200 && $d1 == 200 && $d2 == 200 && pid_of($e0) == pid_of($e2)
            && !log_lines($srv, qr/WSGIDaemonProcess dn stopping/),
            'deadlock-timeout=2: a request that sleeps 4 s with the GIL let go is no deadlock (same process)')
        or diag("$d0 $e0 / $d1 / $d2 $e2");
    my ($s0) = $srv ? $srv->get('/st', 30) : (0);
    ok t_cmp($s0, 500, 'startup-timeout=2: a script that fails to load: 500');
    ok t_ok(wait_until(sub { log_lines($srv, qr/WSGIDaemonProcess st stopping \(startup-timeout=2 passed: its WSGI script failed to load, and none has loaded\)/) }, 10),
            'startup-timeout: the process is recycled, logged with why');
}

# --- a crash, on the status page ------------------------------------------------------
{
    my ($c0, $b0) = $srv ? $srv->get('/kl', 30) : (0, '');
    my $p0 = pid_of($b0) // 0;
    my $before = status_line($srv, 'WSGIDaemonProcess.kl.1');
    my ($r0) = $before =~ /\brecycles=(\d+)/;
    kill 'KILL', $p0 if $p0;
    my $line = '';
    wait_until(sub { $line = status_line($srv, 'WSGIDaemonProcess.kl.1');
                     $line =~ /\blast_recycle="was killed by signal 9/ }, 10);
    my ($r1) = $line =~ /\brecycles=(\d+)/;
    ok t_ok($p0 && $line =~ /\blast_recycle="was killed by signal 9 \(Killed\)/ && ($r1 // 0) == ($r0 // 0) + 1,
            'server-status: a process killed (SIGKILL) counts as a recycle, with how it ended') or diag("$before\n$line");
}

# --- eviction-timeout ---------------------------------------------------------------
{
    my ($c0, $b0) = $srv ? $srv->get('/ev', 30) : (0, '');
    my $p0 = pid_of($b0) // 0;
    my $long = $srv ? client($srv, '/ev?sleep=2') : undef;
    Time::HiRes::sleep(0.5);
    ok t_ok($p0 && kill('USR1', $p0), 'eviction-timeout=3: SIGUSR1 sent to the daemon process');
    ok t_ok(wait_until(sub { log_lines($srv, qr/WSL00189: daemon process $p0 of WSGIDaemonProcess ev evicted \(SIGUSR1\): serving until no request runs, eviction-timeout=3 at most/) }, 5),
            'the eviction is logged');
    ok t_ok(status_line($srv, 'WSGIDaemonProcess.ev.1') =~ /\bpid=$p0 state=evicting\b/,
            'server-status: state=evicting meanwhile');
    my ($c1, $b1) = $srv ? $srv->get('/ev', 30) : (0, '');
    ok t_ok($c1 == 200 && (pid_of($b1) // 0) == $p0,
            'while the 2 s request runs, a new one is still served by that process') or diag("$c1 $b1 ($p0)");
    my ($lc, $lp) = $long ? finish($long) : (0, 0);
    ok t_ok($lc == 200 && $lp == $p0, 'the running request ends 200');
    ok t_ok(wait_until(sub { log_lines($srv, qr/WSL00189: daemon process $p0 of WSGIDaemonProcess ev stopping \(evicted \(SIGUSR1\): no request running\)/) }, 5),
            'then the process stops, idle, logged with why');
    my ($c2, $b2) = $srv ? $srv->get('/ev', 30) : (0, '');
    ok t_ok($c2 == 200 && pid_of($b2) && pid_of($b2) != $p0, 'the next request is served by its replacement')
        or diag("$c2 $b2");
    my $line = status_line($srv, 'WSGIDaemonProcess.ev.1');
    ok t_ok($line =~ /\brecycles=1\b/ && $line =~ /\blast_recycle="evicted \(SIGUSR1\): no request running"/,
            'server-status: the eviction as the slot\'s last recycle') or diag($line);

    my ($d0, $e0) = $srv ? $srv->get('/ed', 30) : (0, '');
    my $q0 = pid_of($e0) // 0;
    my $t0 = Time::HiRes::time();
    my $cut = $srv ? client($srv, '/ed?sleep=6') : undef;
    Time::HiRes::sleep(0.5);
    kill 'USR1', $q0 if $q0;
    my ($xc) = $cut ? finish($cut) : (0);
    my $took = Time::HiRes::time() - $t0;
    ok t_ok($xc == 502 && $took < 5,
            'eviction-timeout=1: a 6 s request is cut when it passes (502, after shutdown-timeout=1)') or diag("$xc after $took s");
    ok t_ok(log_lines($srv, qr/WSL00189: daemon process $q0 of WSGIDaemonProcess ed stopping \(evicted \(SIGUSR1\): eviction-timeout=1 passed\)/),
            'logged with why') or diag(join "\n", log_lines($srv, qr/WSGIDaemonProcess ed/));
}

# --- Apache's graceful restart ------------------------------------------------------
# The inode of each group's listening socket (WSGISocketPrefix under the
# server's directory): {path => inode}.
sub socket_inodes {
    my ($srv) = @_;
    my %ino;
    return \%ino unless $srv;
    for my $dir (glob($srv->dir . '/wsgi.*')) {
        opendir my $dh, $dir or next;
        for (grep { /\.sock$/ } readdir $dh) {
            my @st = lstat("$dir/$_");
            $ino{"$dir/$_"} = $st[1] if @st;
        }
    }
    return \%ino;
}

{
    my ($c0, $b0) = $srv ? $srv->get('/gr', 30) : (0, '');
    my $p0 = pid_of($b0) // 0;
    my $inodes0 = socket_inodes($srv);
    my $long = $srv ? client($srv, '/gr?sleep=7') : undef;
    my $quick = $srv ? client($srv, '/gr?sleep=0.02', 150) : undef;
    Time::HiRes::sleep(0.5);
    $srv->signal('USR1') if $srv;
    my ($lc, $lp) = $long ? finish($long) : (0, 0);
    my @q = $quick ? collect($quick) : ();
    my %qp = map { (split / /)[1] => 1 } @q;
    ok t_ok($lc == 200 && $lp == $p0,
            'graceful restart: a 7 s request running in the daemon (past shutdown-timeout=5) ends 200, in its process');
    ok t_cmp(scalar(grep { /^200 \d+$/ } @q) . ' of ' . scalar(@q), '150 of 150',
             'the requests sent one after another meanwhile are all answered');
    ok t_ok(log_lines($srv, qr/WSL00189: daemon process $p0 of WSGIDaemonProcess gr stopping \(Apache restarts gracefully\)/),
            'the process is told, and logs why');
    # The same socket, not a new one bound at its path: a request sent
    # as the old processes stop waits in it for the new ones (the module
    # is unloaded and loaded again at a restart: the list of kept sockets
    # must survive that).
    my $inodes1 = socket_inodes($srv);
    ok t_ok(keys(%$inodes0) > 0 && join(',', map { "$_=$inodes0->{$_}" } sort keys %$inodes0)
            eq join(',', map { "$_=$inodes1->{$_}" } sort keys %$inodes1),
            'each group\'s listening socket is the one it had before the restart')
        or diag(join(' ', %$inodes0) . ' / ' . join(' ', %$inodes1));
    my ($c1, $b1) = $srv ? $srv->get('/gr', 30) : (0, '');
    ok t_ok($c1 == 200 && pid_of($b1) && pid_of($b1) != $p0 && keys(%qp) >= 2,
            'the next configuration\'s process serves') or diag("$c1 $b1; " . join(' ', keys %qp));
    # Handed to the MPM (the module itself is unloaded and loaded again
    # at a restart): reaped, not left a zombie, once it ends.
    ok t_ok(wait_until(sub { !-e "/proc/$p0" }, 20),
            'the parent reaps the earlier configuration\'s process when it ends');
}

ok t_cmp(join("\n", log_lines($srv, qr/WSL00170:.*(maximum-requests|request-timeout|queue-timeout|restart-interval|inactivity-timeout|graceful-timeout|eviction-timeout|memory-limit|cpu-time-limit|startup-timeout|deadlock-timeout)/)), '',
         'WSL00170 names none of these options as not acted on');
ok t_cmp(join("\n", log_lines($srv, qr/Segmentation fault|exit signal|Fatal Python error/)), '',
         'no crash');
ok t_ok(defined($srv ? $srv->stop(30) : undef), 'the server stops, no process left behind');

# --- a daemon never outlives Apache ------------------------------------------------
# Apache's parent killed (SIGKILL: no stop of its own, only the kernel's
# death signal) while the main thread of each group's daemon is where it
# takes no signal, or cannot stop:
#   - ax: stuck in Python's finalisation (an atexit handler that never
#     returns), once its stop began;
#   - is: stuck in its WSGIImportScript, never in its signal wait;
#   - rq: a request sleeping in C past shutdown-timeout (drain's bound).
# Each is gone within shutdown-timeout=2 and the watchdog's margin (5 s)
# after the second it takes to see its parent gone: 8 s, 12 s allowed.
{
    my $bound = 12;
    my $dsrv = eval {
        WSLServer->start(embedded => 1, conf => <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
Timeout 20
<IfModule !status_module>
    LoadModule status_module /usr/lib/apache2/modules/mod_status.so
</IfModule>
WSGIDaemonProcess ax processes=1 threads=2 shutdown-timeout=2
WSGIDaemonProcess is processes=1 threads=1 shutdown-timeout=2
WSGIDaemonProcess rq processes=1 threads=2 shutdown-timeout=2
WSGIImportScript "$docroot/daemon/stuck_import.py" process-group=is application-group=%{GLOBAL}
WSGIScriptAlias /ax "$docroot/daemon/stuck_stop.wsgi" process-group=ax application-group=%{GLOBAL}
WSGIScriptAlias /rq "$docroot/daemon/stuck_stop.wsgi" process-group=rq application-group=%{GLOBAL}
CONF
    };
    ok t_ok($dsrv, '(setup) a server whose daemons cannot stop starts') or diag($@);
    my ($ac, $ab) = $dsrv ? $dsrv->get('/ax', 30) : (0, '');
    my ($rc, $rb) = $dsrv ? $dsrv->get('/rq', 30) : (0, '');
    my $stuck = $dsrv ? $dsrv->spawn(GET => '/rq?csleep=60', timeout => 30) : undef;
    my $is_pid;
    wait_until(sub { ($is_pid) = map { /stuck_import\.py: importing in pid (\d+)/ ? $1 : () }
                                 log_lines($dsrv, qr/stuck_import\.py: importing in pid/);
                     $is_pid }, 15);
    Time::HiRes::sleep(1);      # the C sleep has begun
    my %daemon = (ax => pid_of($ab), is => $is_pid, rq => pid_of($rb));
    ok t_ok($ac == 200 && $rc == 200 && !grep({ !$_ } values %daemon),
            'each daemon is there: ax with its script loaded, is in its import, rq running a request in C')
        or diag(join ' ', map { "$_=" . ($daemon{$_} // '-') } sort keys %daemon);
    my $parent = $dsrv ? $dsrv->{pid} : undef;
    my $t0 = Time::HiRes::time();
    ok t_ok($parent && kill('KILL', $parent), "Apache's parent (pid " . ($parent // '-') . ') killed with SIGKILL');
    my %gone;
    wait_until(sub {
        for my $g (keys %daemon) {
            $gone{$g} //= Time::HiRes::time() - $t0 if $daemon{$g} && !alive($daemon{$g});
        }
        keys(%gone) == keys(%daemon);
    }, 20);
    for my $g (sort keys %daemon) {
        ok t_ok(defined $gone{$g} && $gone{$g} < $bound,
                sprintf("%s: its daemon (pid %s) is gone within %d s of its parent's death (%s)", $g,
                        $daemon{$g} // '-', $bound,
                        defined $gone{$g} ? sprintf('%.1f s', $gone{$g}) : 'still there after 20 s'));
    }
    for my $g (qw(ax is)) {
        my $p = $daemon{$g} // 0;
        ok t_ok(log_lines($dsrv, qr/WSL00215: daemon process $p of WSGIDaemonProcess $g: its parent \(pid \d+\) is gone: it exits within 7 s/)
                && log_lines($dsrv, qr/WSL00215: daemon process $p of WSGIDaemonProcess $g did not end within 7 s of its (?:parent's death|stop \(its requests' 2 s and 5 s for Python's exit\)): exiting/),
                "$g: it logs its parent gone, then its exit at the deadline (WSL00215)")
            or diag(join "\n", log_lines($dsrv, qr/WSL00215|WSGIDaemonProcess $g/));
    }
    # Left over (the test failed), and Apache's children: killed by pid.
    kill 'KILL', grep { $_ && alive($_) } values %daemon;
    kill 'KILL', $dsrv->processes if $dsrv;
    delete $dsrv->{pid} if $dsrv;
    WSLServer::reap($stuck) if $stuck;
}

# $n requests (default 1) one after another from a process of its own,
# each given $timeout s (default 40): [pid, pipe], read by collect() or
# finish().
sub client {
    my ($srv, $path, $n, $timeout) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        for (1 .. ($n || 1)) {
            my ($code, $body) = $srv->get($path, $timeout || 40);
            print $w "$code ", (pid_of($body) // '-'), "\n";
        }
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    return [$pid, $r];
}

# Whether process $pid runs (a zombie has ended: with its parent killed
# it may wait to be reaped by whoever adopted it).
sub alive {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    close $fh;
    return $stat =~ /\) ([A-Za-z]) / && $1 ne 'Z' && $1 ne 'X';
}

# The "status pid" lines of a client, once it ends.
sub collect {
    my ($k) = @_;
    my $fh = $k->[1];
    my @lines = <$fh>;
    close $fh;
    waitpid $k->[0], 0;
    chomp @lines;
    return @lines;
}

# (status, pid) of a one-request client.
sub finish {
    my ($line) = collect($_[0]);
    return split / /, $line // '0 0';
}
