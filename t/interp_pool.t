# interp_pool.t: interpreters with a GIL of their own, and pools of them
# (issue 18): WSGIPerInterpreterGIL, WSGIInterpreterCount and the
# <WSGIInterpreterOptions> container.
#
# On every Python: what configtest says of the container and its
# directives (bad selectors and counts refused, other directives inside
# refused by name, an own GIL before 3.12 and a pool of %{GLOBAL} warned
# of).
#
# On 3.12+ only (skipped with the reason otherwise), on a server of the
# test's own with the app t/htdocs/pool/pool.wsgi in a daemon process
# (8 threads) and, under a threaded MPM, in Apache's one child (4
# threads), group "pooled" being a pool of 2 own-GIL interpreters and
# group "plain" the default:
#   - two requests in the pool run Python at the same time: each spends
#     200 ms of its thread's CPU, and both are done in well under 400 ms;
#     in "plain" the same two take turns (at least 380 ms): the shared-GIL
#     default is unchanged;
#   - every thread stays on one interpreter, both are used, module
#     globals differ between the two and are shared within one, a
#     threading.local counts per thread, WSGIImportScript ran once in each;
#   - an extension without multi-interpreter support (_testsinglephase)
#     fails its import with WSL00212 naming it (once per interpreter) and
#     imports in "plain";
#   - request-timeout in a daemon whose group is a pool: the 504, and the
#     stuck thread's Python stack read from inside its interpreter;
#   - a subrequest into the pool from inside a pooled request's own I/O
#     (an SSI include, embedded): served on the same thread and
#     interpreter, and the turns are whole after it;
#   - 8 clients x 12 mixed requests (raise, stream, read the body) all
#     answer as they should;
#   - at a graceful restart and at the stop every interpreter of the pool
#     is ended: the atexit callbacks of both run.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok diag embedded_python wait_until expected_mpm);
use WSLServer ();

plan tests => 42, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
# mod_include for the subrequest tests: the suite's own line if it loads
# it, else from where the suite loads its MPM module; neither: those two
# tests are skipped.
my $modules = WSLServer::load_module_lines();
my ($libexecdir) = $modules =~ m{^LoadModule mpm_\w+ "?(/\S+)/[^/]+\.so}m;
my $include_load = $modules =~ /^LoadModule include_module /m ? ''
    : $libexecdir ? qq{LoadModule include_module "$libexecdir/mod_include.so"}
    : undef;
my $ssi_conf = defined $include_load ? <<"CONF" : '';
$include_load
<Location /e/pooled/ssi>
    Options +Includes
    SetOutputFilter INCLUDES
</Location>
CONF
my $app = "$docroot/pool/pool.wsgi";
my $preload = "$docroot/pool/preload.py";
my $json = JSON::PP->new;
my $py = embedded_python();
my ($major, $minor) = split /\./, ($py->{xy} // '0.0');
my $own_gil = $major > 3 || ($major == 3 && $minor >= 12);
my $threaded = expected_mpm() ne 'prefork';

# --- configtest, every Python -------------------------------------------------
my ($rc, $out) = WSLServer->configtest(<<'CONF');
<WSGIInterpreterOptions colour=red>
    WSGIPerInterpreterGIL On
</WSGIInterpreterOptions>
CONF
ok t_cmp($rc != 0 && $out =~ /takes process-group=NAME and application-group=NAME, not 'colour=red'/ ? 1 : 0,
         1, 'an unknown selector fails configtest, named') or diag($out);

($rc, $out) = WSLServer->configtest(<<'CONF');
<WSGIInterpreterOptions application-group=app1>
    WSGIPythonPath /tmp
</WSGIInterpreterOptions>
CONF
ok t_cmp($rc != 0 && $out =~ /WSGIPythonPath \(.*\) is not taken inside <WSGIInterpreterOptions>/ ? 1 : 0,
         1, 'a directive the container does not take fails configtest, named') or diag($out);

($rc, $out) = WSLServer->configtest(<<'CONF');
<WSGIInterpreterOptions application-group=app1>
    WSGIInterpreterCount 0
</WSGIInterpreterOptions>
CONF
ok t_cmp($rc != 0 && $out =~ /WSGIInterpreterCount: '0' is not a whole number from 1 to 64/ ? 1 : 0,
         1, 'WSGIInterpreterCount 0 fails configtest') or diag($out);

($rc, $out) = WSLServer->configtest(<<'CONF');
WSGIPerInterpreterGIL On
<WSGIInterpreterOptions process-group=%{GLOBAL} application-group=app1>
    WSGIPerInterpreterGIL Off
    WSGIInterpreterCount 3
</WSGIInterpreterOptions>
CONF
ok t_cmp($rc, 0, 'WSGIPerInterpreterGIL and a container with both selectors pass configtest')
    or diag($out);
ok t_cmp(($out =~ /WSL00210: WSGIPerInterpreterGIL On/ ? 1 : 0), ($own_gil ? 0 : 1),
         $own_gil ? "Python $py->{xy}: no warning about an own GIL"
                  : "Python $py->{xy}: configtest warns that an own GIL needs 3.12")
    or diag($out);

($rc, $out) = WSLServer->configtest(<<'CONF');
<WSGIInterpreterOptions application-group=%{GLOBAL}>
    WSGIInterpreterCount 2
</WSGIInterpreterOptions>
CONF
ok t_cmp($rc == 0 && $out =~ /WSL00211: .*the main interpreter is one/ ? 1 : 0, 1,
         'a pool of %{GLOBAL} is warned of (the main interpreter is one)') or diag($out);

# --- 3.12+: the pool at work --------------------------------------------------
my $skip_why = "interpreters with a GIL of their own need Python 3.12+; "
    . "the module embeds " . ($py->{version} // 'an unknown Python');
unless ($own_gil) {
    skip($skip_why) for 7 .. 42;
    diag("skipped 36: $skip_why");
    exit 0;
}

my $srv = eval {
    WSLServer->start(embedded => 1, conf => <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
Timeout 20
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    MaxRequestWorkers 4
</IfModule>
WSGIDaemonProcess pool processes=1 threads=8
WSGIDaemonProcess timed processes=1 threads=4 request-timeout=2
<WSGIInterpreterOptions application-group=pooled>
    WSGIPerInterpreterGIL On
    WSGIInterpreterCount 2
    WSGISwitchInterval 0.02
</WSGIInterpreterOptions>
WSGIScriptAlias /d/pooled "$app" process-group=pool application-group=pooled
WSGIScriptAlias /d/plain "$app" process-group=pool application-group=plain
WSGIScriptAlias /t/pooled "$app" process-group=timed application-group=pooled
WSGIScriptAlias /e/pooled "$app" application-group=pooled
WSGIScriptAlias /e/plain "$app" application-group=plain
WSGIImportScript "$preload" process-group=pool application-group=pooled
$ssi_conf
CONF
};
ok t_ok($srv, '(setup) a server with a pool of 2 own-GIL interpreters starts') or diag($@);

sub decode { my $j = eval { $json->decode($_[0] // '') }; return ref $j eq 'HASH' ? $j : {} }

# $n requests at once, $rounds times: the decoded answers (undef for a
# failed one).
sub rounds {
    my ($path, $n, $rounds) = @_;
    my @out;
    for (1 .. $rounds) {
        my @k = map { $srv->spawn(GET => $path, timeout => 30) } 1 .. $n;
        for (@k) {
            my ($code, $body) = WSLServer::reap($_);
            push @out, $code == 200 ? decode($body) : undef;
        }
    }
    return @out;
}

my @who = $srv ? rounds('/d/pooled/who?ms=30', 4, 6) : ();
my @ok = grep defined, @who;
ok t_cmp(scalar(@ok), 24, '24 requests, 4 at a time, to the pool: all 200');
my (%interp_of_thread, %tokens, %locals, %preloaded, $moved);
for my $w (@ok) {
    my $t = $w->{thread};
    $moved++ if exists $interp_of_thread{$t} && $interp_of_thread{$t} ne $w->{interpreter};
    $interp_of_thread{$t} = $w->{interpreter};
    $tokens{$w->{interpreter}}{$w->{token}} = 1;
    push @{ $locals{$t} }, $w->{local};
    $preloaded{$w->{interpreter}} = $w->{preloaded};
}
ok t_cmp($moved // 0, 0, 'every thread stayed on one interpreter of the pool');
ok t_cmp(join(',', sort keys %tokens), '0,1', 'both interpreters of the pool served (mod_wsgi_lite.interpreter 0 and 1)');
ok t_cmp(join(',', map { scalar keys %{ $tokens{$_} } } sort keys %tokens), '1,1',
         'module globals are shared within an interpreter (one token each)');
my @tok = map { keys %{ $tokens{$_} } } sort keys %tokens;
ok t_cmp(@tok == 2 && $tok[0] ne $tok[1] ? 1 : 0, 1,
         'module globals differ between the two interpreters');
my $local_ok = !grep { my @l = sort { $a <=> $b } @{ $locals{$_} };
                       join(',', @l) ne join(',', 1 .. @l) } keys %locals;
ok t_cmp($local_ok ? 1 : 0, 1, 'a threading.local counts each thread\'s requests (1, 2, ... per thread)');
ok t_cmp(join(',', map { $preloaded{$_} // 'none' } sort keys %preloaded), '1,1',
         'WSGIImportScript ran once in each interpreter of the pool');
ok t_cmp(join(',', sort { $a cmp $b } keys %{{ map { $_->{group} => 1 } @ok }}), 'pooled',
         'mod_wsgi.application_group is the group\'s name in both');
ok t_cmp(join(',', sort keys %{{ map { $_->{switchinterval} => 1 } @ok }}), '0.02',
         'WSGISwitchInterval 0.02 in the container: each own GIL of the pool has it');
ok t_cmp(($srv ? decode(($srv->get('/d/plain/who'))[1])->{switchinterval} : 0) // 0, 0.005,
         'a shared-GIL group keeps the main GIL\'s (Python\'s 5 ms)');

# Two 200 ms spins at once, on both interpreters of one process (threads
# are bound, not requests: pairs that land otherwise are sent again):
# (the longer of the two requests' spins, wall time in s; a pair was
# found; from the first start to the last end).  Alone, a spin takes its
# 200 ms; two that share a GIL take turns, 400 ms of CPU one after the
# other.  Both interpreters are made (and the app loaded) first, so that
# neither spin waits for the other's set-up; the best of three pairs is
# kept, so that a moment's load on the machine's two cores is not taken
# for a shared GIL (the shared GIL's 400 ms cannot be bettered by luck).
sub spin_pair {
    my ($path, $want_both) = @_;
    my ($best, $best_total, $pairs) = (9, 9, 0);
    rounds("$path/who?ms=30", 4, 3);
    for (1 .. 12) {
        my @k = map { $srv->spawn(GET => "$path/spin?ms=200", timeout => 30) } 1 .. 2;
        my @j = map { my ($c, $b) = WSLServer::reap($_); $c == 200 ? decode($b) : undef } @k;
        next if grep !defined || !defined $_->{start}, @j;
        next if $j[0]{pid} != $j[1]{pid};
        next if $want_both && $j[0]{interpreter} == $j[1]{interpreter};
        # They overlapped: each began before the other ended.
        next if $j[0]{start} > $j[1]{end} || $j[1]{start} > $j[0]{end};
        my ($longest) = sort { $b <=> $a } map $_->{end} - $_->{start}, @j;
        my ($first) = sort { $a <=> $b } map $_->{start}, @j;
        my ($last) = sort { $b <=> $a } map $_->{end}, @j;
        $best = $longest if $longest < $best;
        $best_total = $last - $first if $last - $first < $best_total;
        last if ++$pairs == 3;
    }
    return $pairs ? ($best, 1, $best_total) : (0, 0, 0);
}

my ($span, $found) = $srv ? spin_pair('/d/pooled', 1) : (0, 0);
ok t_cmp($found, 1, 'daemon: two requests at once ran in the two interpreters of the pool');
ok t_cmp($found && $span < 0.35 ? 1 : 0, 1,
         sprintf('daemon: two 200 ms spins at once, the longer took %.0f ms (best of 3; < 350: they ran in parallel)', $span * 1000));
my $total;
(undef, $found, $total) = $srv ? spin_pair('/d/plain', 0) : (0, 0, 0);
ok t_cmp($found && $total >= 0.38 ? 1 : 0, 1,
         sprintf('daemon, shared GIL (the default): the same two took turns, %.0f ms from first start to last end (best of 3; >= 380)', ($total // 0) * 1000));

if ($threaded) {
    ($span, $found) = $srv ? spin_pair('/e/pooled', 1) : (0, 0);
    ok t_cmp($found && $span < 0.35 ? 1 : 0, 1,
             sprintf('embedded (one child, 4 threads): the two ran in parallel, the longer %.0f ms (best of 3; < 350)', $span * 1000));
}
else {
    skip('embedded mode under prefork: one thread per process, no pool to share');
}

# --- turns: requests of one own-GIL interpreter take its GIL in turns -------------
# Three requests at once to the daemon's pool of two: two of them share
# an interpreter (the daemon spreads three over two).  That pair is what
# is judged; rounds without one are sent again.
sub same_pair {
    my ($path) = @_;
    for (1 .. 8) {
        my @k = map { $srv->spawn(GET => $path, timeout => 30) } 1 .. 3;
        my @j = grep { defined && defined $_->{start} }
                map { my ($c, $b) = WSLServer::reap($_); $c == 200 ? decode($b) : undef } @k;
        next if @j < 3;
        for my $i (0 .. 1) {
            for my $k ($i + 1 .. 2) {
                return sort { $a->{start} <=> $b->{start} } @j[$i, $k]
                    if $j[$i]{pid} == $j[$k]{pid} && $j[$i]{interpreter} == $j[$k]{interpreter};
            }
        }
    }
    return;
}
# Two CPU-bound requests on one interpreter: one runs, then the other,
# each alone under the GIL, where threads left to fight for the GIL
# share it, the two at once, each taking about twice its CPU.  (A turn
# held ten switch intervals, 200 ms here, lets the next one in: 80 ms
# spins leave room for a slow machine.)
my @p = $srv ? same_pair('/d/pooled/spin?ms=80') : ();
ok t_ok(@p == 2 && $p[1]{start} >= $p[0]{end} - 0.005,
        sprintf('turns: two 80 ms spins on one own-GIL interpreter ran one after the other, not at once (%s)',
                @p == 2 ? join(', ', map { sprintf '%.0f-%.0f ms', 1000 * ($_->{start} - $p[0]{start}),
                                                   1000 * ($_->{end} - $p[0]{start}) } @p) : 'no pair'));
# A request blocked outside Python keeps its turn, and the GIL is free:
# the next request of its interpreter is let in once the first waiter
# has seen the holder asleep (it looks every half switch interval, at
# most 2.5 ms apart), not after the 400 ms nap.
@p = $srv ? same_pair('/d/pooled/nap?ms=400') : ();
ok t_ok(@p == 2 && $p[1]{start} - $p[0]{start} < 0.2,
        sprintf('turns: a request asleep with its turn does not hold up its interpreter: the second of two 400 ms naps began %s ms after the first',
                @p == 2 ? sprintf('%.0f', 1000 * ($p[1]{start} - $p[0]{start})) : '(no pair)'));

# --- a subrequest from inside a request's own I/O -------------------------------
# mod_include runs the page's include as a subrequest on the same thread
# while the outer request's body passes down the filters, the outer
# turn held and the GIL dropped: the inner request's enter keeps that
# turn (queued behind itself it would wait for its own leave), and its
# leave leaves it to the outer one.  Then the queue must still be one
# turn wide: two spins on one interpreter one after the other again.
if ($threaded && defined $include_load) {
    my $good = 0;
    for (1 .. 4) {
        my ($code, $body) = $srv ? $srv->get('/e/pooled/ssi', 10) : (0, '');
        my @j = map decode($_), grep /^\{/, split /\n/, $body // '';
        # Both parts (the include was run, not sent as it is), the end.
        next unless $code == 200 && @j == 2 && $body =~ /\nend\n\z/
            && defined $j[0]{interpreter};
        $good++;
    }
    ok t_cmp($good, 4, 'a subrequest into the pool from inside a pooled request\'s own I/O '
             . '(an SSI include of a write()-sent page, 4 times): each answered in full');
    # The queues must be whole after them.  (Judging only the
    # interpreter the subrequests ran in failed once in CI, at a7e6f03,
    # and never here: open, see the closing note of stop 29.)
    @p = $srv ? same_pair('/e/pooled/spin?ms=80') : ();
    ok t_ok(@p == 2 && $p[1]{start} >= $p[0]{end} - 0.005,
            sprintf('after them, two 80 ms spins on one interpreter (%s) still ran one after the other (%s)',
                    @p == 2 ? $p[0]{interpreter} : 'none',
                    @p == 2 ? join(', ', map { sprintf '%.0f-%.0f ms', 1000 * ($_->{start} - $p[0]{start}),
                                                       1000 * ($_->{end} - $p[0]{start}) } @p) : 'no pair'));
}
else {
    skip($threaded ? 'no mod_include to load (no LoadModule line for an MPM module to find it by)'
                   : 'embedded mode under prefork: no pool in a child') for 1 .. 2;
}

# --- an extension the own GIL refuses -------------------------------------------
my @ext = glob("$py->{prefix}/lib/python$py->{xy}/lib-dynload/_testsinglephase.*.so");
if ($srv && @ext) {
    my @codes = map { ($srv->get('/d/pooled/ext'))[0] } 1 .. 6;
    ok t_cmp(join(' ', @codes), join(' ', (500) x 6), 'import _testsinglephase in the pool: 500');
    my @refused = grep /WSL00212: extension module '_testsinglephase' cannot be imported in application group 'pooled' \(interpreter [12] of 2/,
                  split /\n/, $srv->log_text;
    ok t_cmp(@refused >= 1 && @refused <= 2 ? 1 : 0, 1,
             'WSL00212 names the module, the group and the way out, once per interpreter (' . scalar(@refused) . ')')
        or diag(join "\n", @refused);
    my ($code, $body) = $srv->get('/d/plain/ext');
    ok t_cmp("$code $body", '200 imported', 'the same import works in a shared-GIL group');
}
else {
    skip($srv ? "no _testsinglephase in $py->{prefix}" : 'no server') for 1 .. 3;
}

# --- what CPython refuses in an own-GIL interpreter ------------------------------
my $refused = $srv ? decode(($srv->get('/d/pooled/refused'))[1]) : {};
my $shared = $srv ? decode(($srv->get('/d/plain/refused'))[1]) : {};
diag(join "\n", map "own GIL $_: $refused->{$_}", sort keys %$refused);
ok t_cmp(join(' | ', map { $refused->{$_} // 'none' } qw(thread subprocess daemon_thread)),
         'ok | ok | RuntimeError: daemon threads are disabled in this (sub)interpreter',
         'own GIL: threads and subprocess run; CPython refuses daemon threads');
ok t_cmp(($refused->{fork} // '') =~ /^RuntimeError: / ? 1 : 0, 1, 'own GIL: os.fork() raises RuntimeError');
ok t_cmp(join(' | ', map { $shared->{$_} // 'none' } qw(thread daemon_thread subprocess)), 'ok | ok | ok',
         'shared GIL: threads, daemon threads and subprocess all work');

# --- request-timeout in a pool: the stuck thread's stack, from its own interpreter
my $t0 = Time::HiRes::time();
my ($tcode) = $srv ? $srv->get('/t/pooled/sleep?s=30', 20) : (0);
my $took = Time::HiRes::time() - $t0;
ok t_cmp($tcode == 504 && $took < 10 ? 1 : 0, 1,
         sprintf('request-timeout=2 in a pool: 504 after %.1f s', $took));
ok t_ok(wait_until(sub { grep m{WSL00200:   File ".*/pool\.wsgi", line \d+, in stuck_here$},
                          split /\n/, $srv ? $srv->log_text : '' }, 10),
        "request-timeout's log has the stuck thread's stack, read in its own-GIL interpreter (stuck_here)")
    or diag(grep /WSL0020/, split /\n/, $srv ? $srv->log_text : '');

# --- hammering the pool -------------------------------------------------------
my @mixed = (['/d/pooled/who', 200], ['/d/pooled/boom', 500],
             ['/d/pooled/stream', 200], ['/d/pooled/echo', 200]);
my (@kids, $bad);
for my $c (1 .. 8) {
    for my $i (0 .. 11) {
        my ($path, $want) = @{ $mixed[($c + $i) % 4] };
        push @kids, [$want, $path, $srv->spawn($path =~ /echo/ ? 'POST' : 'GET', $path,
                                              body => ($path =~ /echo/ ? "body $c $i" : undef),
                                              timeout => 30)] if $srv;
    }
    # at most 8 in flight: reap this client's batch before the next
    for my $k (splice @kids) {
        my ($want, $path, $h) = @$k;
        my ($code, $body) = WSLServer::reap($h);
        my $ok = $code == $want;
        $ok &&= $body eq join('', map "chunk $_\n", 0 .. 9) if $path =~ /stream/;
        $ok &&= $body =~ /^body \d+ \d+$/ if $path =~ /echo/;
        $bad++ unless $ok;
    }
}
ok t_cmp($bad // 0, 0, '96 mixed requests (raise, stream, body) in batches of 12: all as expected');
my @tb = grep /WSL00010: .* failed for '\/d\/pooled\/boom'/, split /\n/, ($srv ? $srv->log_text : '');
ok t_cmp(scalar(@tb), 24, 'each raise logged with its URI (24)');
ok t_cmp(($srv ? ($srv->get('/d/pooled/who'))[0] : 0), 200, 'the pool serves on');

# --- the end of every interpreter -------------------------------------------------
my $marks = $srv ? $srv->dir . '/atexit.txt' : '/nonexistent';
# Requests at once go to both interpreters (the daemon gives each to
# the one with fewer running); requests one after another all go to the
# same one.  Just after a graceful restart prefork may have one child
# up, which sends them one after another, so this goes on until both
# have registered (or 20 s), each request held long enough to overlap.
sub register_all {
    my ($path) = @_;
    my %seen;
    my $deadline = Time::HiRes::time() + 20;
    while (keys %seen < 2 && Time::HiRes::time() < $deadline) {
        my @j = grep defined, rounds("$path/atexit?f=$marks&ms=200", 4, 1);
        $seen{$_->{interpreter}} = $_->{pid} for @j;
    }
    return \%seen;
}
sub marks_for {
    my ($pid) = @_;
    open my $fh, '<', $marks or return '';
    my %i = map { /interpreter=(\d+)/ ? ($1 => 1) : () } grep /pid=$pid /, <$fh>;
    return join ',', sort keys %i;
}
my $d = $srv ? register_all('/d/pooled') : {};
my $e = $srv && $threaded ? register_all('/e/pooled') : {};
ok t_cmp(join(',', sort keys %$d), '0,1', '(setup) atexit registered in both interpreters of the daemon pool');
if ($srv) {
    $srv->signal('USR1');
    $srv->wait_ready(30);
}
my $daemon_pid = (values %$d)[0] // 0;
ok t_ok(wait_until(sub { marks_for($daemon_pid) eq '0,1' }, 10),
        'graceful restart: the daemon ended both interpreters, their atexit callbacks ran');
if ($threaded) {
    my $child = (values %$e)[0] // 0;
    ok t_ok(wait_until(sub { marks_for($child) eq '0,1' }, 10),
            'graceful restart: the Apache child ended both interpreters, atexit ran in each');
}
else {
    skip('embedded mode under prefork: no pool in a child');
}
ok t_cmp(($srv ? ($srv->get('/d/pooled/who', 30))[0] : 0), 200, 'after the graceful restart the pool serves');
$d = $srv ? register_all('/d/pooled') : {};
$daemon_pid = (values %$d)[0] // 0;
$srv->stop if $srv;
ok t_cmp(marks_for($daemon_pid), '0,1', 'at the stop: both interpreters ended, atexit ran in each')
    or diag("registered: ", join(',', map "$_=$d->{$_}", sort keys %$d), "\n",
            `cat $marks`, grep(/\[pid $daemon_pid\b/, split /\n/, ($srv ? $srv->log_text : '')));
my @crash = grep /Segmentation|AH00052|Fatal Python|WSL00014/, split /\n/, ($srv ? $srv->log_text : '');
ok t_cmp(scalar(@crash), 0, 'no crash, no Python left unfinalised') or diag(join "\n", @crash);
