# hostile_write.t: the write() callable (and start_response) from threads.
#
# many:    4 threads and the main thread each write() 200 records of 1 KiB
#          (one byte repeated, a byte per thread), joined before the app
#          returns []: every write lands whole, so the body is 1000 whole
#          uniform records, 200 of each byte.
# close:   the body ends (one chunk), then close() wakes a thread that calls
#          write() every 5 ms for 0.3 s, during close() and after the
#          request ended, and start_response with and without exc_info:
#          every call raises RuntimeError, the response is exactly the
#          real body, the next request on the keep-alive connection gets
#          its own answer, and none of the thread's bytes is on the wire.
# biglist: an 8 MiB list body to a slow reader (Apache still sending it
#          after the app returned); a thread calls write() every 5 ms
#          meanwhile: every call raises RuntimeError, the body arrives
#          intact (SHA-256), the connection goes on.
# The same child serves each connection before and after.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use Time::HiRes ();
use WSLTest qw(t_ok wait_until);
use HostileTest qw(recorded ka_connect ka_get ka_extra log_mark finish_checks
                   FINISH_TESTS pid_on stamp);

my ($MANY, $CLOSE, $BIG) = (20, 10, 8);
plan tests => 3 + 6 + 5 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

# Keep-alive connections, reopened when the server ends one; the child's
# pid is compared after each round.
my $c;

# --- many -------------------------------------------------------------------
stamp('many');
{
    my ($whole, $bad_len, $errs) = (0, 0, 0);
    $c = HostileTest::Conn->new;
    for my $i (1 .. $MANY) {
        my $token = "write-many-$$-$i";
        my $r = ka_get($c->sock, "/hostile/write?case=many&token=$token",
                       timeout => 20);
        my $body = $r->{body};
        my %count;
        my $uniform = $r->{status} == 200 && $r->{complete};
        $bad_len++ unless length($body) == 5 * 200 * 1024;
        for (my $off = 0; $off < length $body; $off += 1024) {
            my $rec = substr($body, $off, 1024);
            my $ch = substr($rec, 0, 1);
            if (length($rec) != 1024 || $rec ne $ch x 1024) {
                $uniform = 0;
                last;
            }
            $count{$ch}++;
        }
        my $counts = join ',', map { "$_=" . ($count{$_} // 0) } qw(a b c d M);
        $uniform = 0 unless $counts eq 'a=200,b=200,c=200,d=200,M=200'
                            && keys(%count) == 5;
        $whole++ if $uniform;
        $errs++ if recorded($token) ne '';
        t_debug("round $i: status $r->{status}, " . length($body)
                . " bytes, $counts " . recorded($token)) unless $uniform;
        $c->check_pid;
    }
    my $pid_changes = $c->changes;
    $c->drop;
    ok t_cmp($whole, $MANY, "many: $MANY bodies made of whole 1 KiB records, 200 per writer");
    ok t_cmp($errs, 0, 'many: no write() raised');
    ok t_cmp($pid_changes, 0, 'many: the same child before and after');
}

# --- close: write() and start_response after the end -------------------------
stamp('close');
{
    my ($body_ok, $next_ok, $clean_wire, $all_raise, $sr_raise, $pids) =
        (0, 0, 0, 0, 0, 0);
    $c = HostileTest::Conn->new;
    for my $i (1 .. $CLOSE) {
        my $token = "write-close-$$-$i";
        my $s = $c->sock;
        my $r = ka_get($s, "/hostile/write?case=close&token=$token",
                       timeout => 10);
        $body_ok++ if $r->{status} == 200 && $r->{complete}
                      && $r->{body} eq 'the real body';
        # The thread goes on for 0.3 s after close() started: ask for the
        # next response while it does.
        my $h = ka_get($s, '/hello', timeout => 10);
        $next_ok++ if $h->{status} == 200 && $h->{body} eq 'Hello World'
                      && $h->{complete};
        wait_until(sub { recorded($token) =~ /^done$/m }, 8);
        my $extra = ka_extra($s, 0.1);
        $clean_wire++ if "$r->{raw}$h->{raw}$extra" !~ /WWW/;
        my @lines = grep /^(?:write|sr|sr_exc) /, split /\n/, recorded($token);
        my @writes = grep /^write /, @lines;
        my @srs = grep /^sr/, @lines;
        $all_raise++ if @writes >= 2 && !grep !/ RuntimeError$/, @writes;
        $sr_raise++ if @srs == 4 && !grep !/ RuntimeError$/, @srs;
        t_debug("round $i: body '$r->{body}', next $h->{status} '$h->{body}',"
                . " recorded: " . join(', ', grep !/ RuntimeError$/, @lines))
            if grep !/ RuntimeError$/, @lines;
        $c->check_pid;
    }
    my $pid_changes = $c->changes;
    $c->drop;
    ok t_cmp($body_ok, $CLOSE, 'close: the response is exactly the real body, complete');
    ok t_cmp($next_ok, $CLOSE, 'close: the next request on the connection gets its own answer');
    ok t_cmp($clean_wire, $CLOSE, 'close: none of the late write()s reaches the wire');
    ok t_cmp($all_raise, $CLOSE, 'close: every write() after the end raises RuntimeError');
    ok t_cmp($sr_raise, $CLOSE,
             'close: start_response after the end raises RuntimeError (with and without exc_info)');
    ok t_cmp($pid_changes, 0, 'close: the same child before and after');
}

# --- biglist: write() while Apache still sends the list -----------------------
stamp('biglist');
{
    my ($body_ok, $next_ok, $all_raise, $pid_changes) = (0, 0, 0, 0);
    for my $i (1 .. $BIG) {
        my $token = "write-big-$$-$i";
        my $s = ka_connect(rcvbuf => 8192);
        my $p = pid_on($s, timeout => 10);
        my $r = ka_get($s, "/hostile/write?case=biglist&token=$token",
                       timeout => 20, slow_start => 0.3);
        my $want = $r->{h}{'x-body-sha256'} ? $r->{h}{'x-body-sha256'}[0] : '';
        $body_ok++ if $r->{status} == 200 && $r->{complete}
                      && length($r->{body}) == 8 * 1024 * 1024
                      && sha256_hex($r->{body}) eq $want;
        wait_until(sub { recorded($token) =~ /^done$/m }, 8);
        my $h = ka_get($s, '/hello', timeout => 10);
        $next_ok++ if $h->{status} == 200 && $h->{body} eq 'Hello World'
                      && $h->{complete} && "$r->{raw}$h->{raw}" !~ /WWW/;
        # A write() may wait for the whole send (the server may hold the
        # request while it passes the list on): at least the loop's first
        # call and the last one.
        my @writes = grep /^write /, split /\n/, recorded($token);
        $all_raise++ if @writes >= 2 && !grep !/ RuntimeError$/, @writes;
        t_debug("round $i: " . length($r->{body}) . " bytes, next "
                . "$h->{status}; writes: " . join(', ', grep !/ RuntimeError$/, @writes))
            if grep !/ RuntimeError$/, @writes;
        my $p2 = $h->{closed} ? 0 : pid_on($s, timeout => 10);
        $pid_changes++ unless $p && $p2 == $p;
        close $s;
    }
    ok t_cmp($body_ok, $BIG, 'biglist: the 8 MiB body arrives intact (SHA-256)');
    ok t_cmp($next_ok, $BIG, 'biglist: the next request on the connection gets its own answer');
    ok t_cmp($all_raise, $BIG, 'biglist: every write() after the app returned raises RuntimeError');
    ok t_cmp($pid_changes, 0, 'biglist: the same child before and after');
    ok t_ok(1, 'biglist: done');
}

ok $_ for finish_checks($mark, 'write() from threads');
