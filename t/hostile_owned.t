# hostile_owned.t: the response body must be the bytes the application
# returned, even when the objects holding them are let go while Apache is
# still sending them.  The application returns a module-level cached list
# of 8 x 4 MiB bytes objects (each a distinct byte), and a slow reader
# (8 KiB receive buffer, 0.5 s before it reads the body) keeps the send
# blocked with the GIL released, while
#   (a) a thread started by the application replaces the list's items
#       (cache[:] = [...] or cache.clear()), collects, and allocates new
#       big objects (12 rounds);
#   (b) another request to the same application, in the same interpreter,
#       replaces the cached items likewise (8 rounds).
# Every byte must arrive: the application sends X-Body-SHA256 and
# X-Body-Length of the content it returns, computed before returning.
#
# On a server of the test's own: under the event MPM one child, so that
# the second request of (b) runs in the very process that is sending (the
# suite's server has two); under prefork a child serves one request at a
# time, so there (b) can only run in another child and is a plain check.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use Time::HiRes ();
use WSLTest qw(t_ok expected_mpm);
use WSLServer ();
use HostileTest qw(ka_connect ka_get log_mark finish_checks FINISH_TESTS
                   pid_on stamp);

my ($THREAD, $OTHER) = (12, 8);
my $BUDGET = 45;    # seconds for all rounds (a hang fails, not blocks)
plan tests => 1 + 3 + 4 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $mpm = expected_mpm();
my $srv = WSLServer->start(conf => <<"CONF");
<IfModule mpm_event_module>
    ServerLimit 1
    StartServers 1
    ThreadsPerChild 8
    MinSpareThreads 1
    MaxSpareThreads 8
    MaxRequestWorkers 8
</IfModule>
<IfModule mpm_prefork_module>
    StartServers 3
    MinSpareServers 3
    MaxSpareServers 3
    MaxRequestWorkers 3
</IfModule>
Timeout 30
WSGIScriptAlias /hostile/owned "$docroot/hostile/owned.wsgi" application-group=wsl-hostile-owned
WSGIScriptAlias /hostile/pid "$docroot/hostile/pid.wsgi" application-group=wsl-hostile-owned
WSGIScriptAlias /hello "$docroot/wsgi/hello.wsgi"
CONF
stamp("own server up ($mpm)");
my $port = $srv->port;
my $host = "Host: 127.0.0.1:$port";
my %on = (port => $port, host => $host);
my $end = Time::HiRes::time() + $BUDGET;

# One slow read of the cached list; $during runs after the headers came,
# before the body is read.  Returns (body intact?, same child after?,
# what $during returned, description).
sub slow_read {
    my ($query, $during) = @_;
    my $s = ka_connect(%on, rcvbuf => 8192);
    my $pid = pid_on($s, %on, timeout => 10);
    my $other;
    my $r = ka_get($s, "/hostile/owned?$query", %on, timeout => 30,
                   after_head => sub {
                       my ($head) = @_;
                       $other = $during->($head) if $during;
                       Time::HiRes::sleep(0.5);
                   });
    my $want_sha = ($r->{h}{'x-body-sha256'} || [''])->[0];
    my $want_len = ($r->{h}{'x-body-length'} || [-1])->[0];
    my $sha = sha256_hex($r->{body});
    my $ok = $r->{status} == 200 && $r->{complete}
             && length($r->{body}) == $want_len && $sha eq $want_sha;
    my $after = $r->{closed} || $r->{timeout} ? 0
              : pid_on($s, %on, timeout => 10);
    close $s;
    my $what = "status $r->{status}, " . length($r->{body})
             . " of $want_len bytes, sha256 " . substr($sha, 0, 12)
             . ' want ' . substr($want_sha, 0, 12);
    if (!$ok && length $r->{body}) {
        # Where it went wrong: the first 4 MiB item that differs.
        my %first;
        for my $k (0 .. 7) {
            my $item = substr($r->{body}, $k * 4194304, 4194304);
            my $b = ord substr($item, 0, 1);
            my $bad = $item =~ /[^\Q${\ chr $b}\E]/ ? ' (mixed)' : '';
            $what .= sprintf ' [%d: %02x%s]', $k, $b, $bad;
        }
    }
    return ($ok, $pid && $after == $pid, $other, $what);
}

# --- control: nothing lets the items go ---------------------------------------
{
    my ($ok, $same_pid, undef, $what) = slow_read('mode=hold&seed=0');
    ok t_ok($ok && $same_pid,
            'control: the same slow read, nothing replacing the items: intact')
        or t_debug($what);
}

# --- (a) the application's own thread lets the items go --------------------
stamp('thread');
{
    my ($intact, $same, @bad) = (0, 0);
    for my $i (1 .. $THREAD) {
        last if Time::HiRes::time() > $end;
        my ($ok, $same_pid, undef, $what) = slow_read("mode=thread&seed=$i");
        $intact++ if $ok;
        $same++ if $same_pid;
        push @bad, "round $i: $what" unless $ok;
    }
    t_debug($_) for @bad[0 .. ($#bad < 5 ? $#bad : 5)];
    ok t_cmp($intact, $THREAD,
             "thread: $THREAD x 32 MiB bodies arrive byte for byte (SHA-256, length)");
    ok t_cmp($same, $THREAD, 'thread: the same child serves the connection before and after');
    ok t_cmp(HostileTest::crash_lines($srv->log_text), '', 'thread: no crash so far');
}

# --- (b) another request replaces the items -----------------------------------
stamp('other request');
{
    my ($intact, $same, $replaced, $in_process, @bad) = (0, 0, 0, 0);
    for my $i (1 .. $OTHER) {
        last if Time::HiRes::time() > $end;
        my ($ok, $same_pid, $other, $what) = slow_read(
            "mode=hold&seed=" . (100 + $i), sub {
                my ($head) = @_;
                my $s = ka_connect(%on);
                my $r = ka_get($s, "/hostile/owned?mode=replace&seed=$i",
                               %on, close => 1, timeout => 20);
                close $s;
                my $apid = ($head->{h}{'x-pid'} || [''])->[0];
                return { done => $r->{status} == 200,
                         same => $r->{body} eq $apid };
            });
        $intact++ if $ok;
        $same++ if $same_pid;
        $replaced++ if $other && $other->{done};
        $in_process++ if $other && $other->{same};
        push @bad, "round $i: $what" unless $ok;
    }
    t_debug($_) for @bad[0 .. ($#bad < 5 ? $#bad : 5)];
    t_debug("the replacing request ran in the sending process $in_process of $OTHER times");
    ok t_cmp($intact, $OTHER,
             "other request: $OTHER x 32 MiB bodies arrive byte for byte");
    ok t_cmp($replaced, $OTHER, 'other request: each replacing request was answered');
    ok t_cmp($same, $OTHER, 'other request: the same child serves the connection before and after');
    if ($mpm eq 'prefork') {
        ok t_ok(1, 'other request: (prefork: it ran in another child)');
    }
    else {
        ok t_cmp($in_process, $OTHER,
                 'other request: it ran in the process that was sending');
    }
}

ok $_ for finish_checks(0, 'owned body memory', %on, log => $srv->{log});
$srv->stop;
