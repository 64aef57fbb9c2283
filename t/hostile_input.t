# hostile_input.t: wsgi.input from threads.
#
# (a) a thread reads wsgi.input after the application returned: 0.2 s
#     after a small list (late_list), or 50 ms after returning an 8 MiB
#     list that Apache is still sending to a slow reader, with read()
#     (late_send) and readline() (late_line): RuntimeError every time.
# (b) a thread blocked in read() on a body the client sends slowly
#     (Content-Length 100000: 10 bytes, pause, 40000, pause, the rest)
#     while the application returns without waiting (blocked): the answer
#     is the application's, the child does not crash.
# (c) two threads call readline() at once on a 2000-line body sent in
#     1000-byte pieces (twolines): every line received exactly once in
#     all, none torn.
# Each on keep-alive connections, the child's pid the same before and
# after on each; no crash line in the error_log.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Time::HiRes ();
use WSLTest qw(t_ok wait_until decode_json_body);
use HostileTest qw(recorded ka_connect ka_get ka_send ka_read log_mark finish_checks
                   FINISH_TESTS pid_on stamp host_header);

my ($LATE_LIST, $LATE_SEND, $BLOCKED, $TWOLINES) = (15, 10, 12, 100);
# Seconds each section may take at most (a round that hangs or crashes
# costs up to its read timeout): rounds not run by then count as failed.
my %BUDGET = (late_list => 10, late_send => 10, late_line => 10,
              blocked => 12, twolines => 22);
sub budget { my $end = Time::HiRes::time() + $BUDGET{$_[0]};
             return sub { Time::HiRes::time() > $end } }
plan tests => 3 * 2 + 3 + 1 + 3 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();
my $host = host_header();

sub post_head {
    my ($query, $length) = @_;
    return "POST /hostile/input?$query HTTP/1.1\r\n$host\r\n"
         . "Content-Type: application/octet-stream\r\n"
         . "Content-Length: $length\r\n\r\n";
}

# Keep-alive connections, reopened when the server ends one; the child's
# pid is compared after each round.
my $c;

# --- (a) reads after the application returned ---------------------------------
for my $c (['late_list', $LATE_LIST, 'read'],
           ['late_send', $LATE_SEND, 'read'],
           ['late_line', $LATE_SEND, 'readline']) {
    my ($case, $rounds, $method) = @$c;
    stamp($case);
    my ($raised, $answered) = (0, 0);
    my $slow = $case ne 'late_list';
    $c = HostileTest::Conn->new($slow ? (rcvbuf => 8192) : ());
    my $over = budget($case);
    for my $i (1 .. $rounds) {
        last if $over->();
        my $token = "input-$case-$$-$i";
        my $body = "line one\nline two\n" x 50;
        my $s = $c->sock;
        ka_send($s, post_head("case=$case&token=$token", length $body) . $body);
        my $r = ka_read($s, timeout => 8,
                        $slow ? (slow_start => 0.3) : ());
        $answered++ if $r->{status} == 200 && $r->{complete}
                       && length($r->{body}) == ($slow ? 8 << 20 : 8);
        wait_until(sub { recorded($token) =~ /^\Q$method\E /m }, 6);
        my ($got) = recorded($token) =~ /^\Q$method\E (\S+)/m;
        $raised++ if ($got // '') eq 'RuntimeError';
        t_debug("round $i: $method gave " . ($got // 'nothing') . ", answer "
                . "$r->{status}, " . length($r->{body}) . ' bytes')
            unless ($got // '') eq 'RuntimeError';
        $c->check_pid;
    }
    my $pid_changes = $c->changes;
    $c->drop;
    ok t_cmp($raised, $rounds,
             "$case: $method() after the application returned raises RuntimeError ($rounds rounds)");
    ok t_ok($answered == $rounds && $pid_changes == 0,
            "$case: every answer complete, the same child before and after")
        or t_debug("answered $answered, pid changes $pid_changes");
}

# --- (b) a thread blocked in read() as the application returns ---------------
stamp('blocked');
{
    my ($answered, %outcomes) = (0);
    $c = HostileTest::Conn->new;
    my $over = budget('blocked');
    for my $i (1 .. $BLOCKED) {
        last if $over->();
        my $token = "input-blocked-$$-$i";
        my $s = $c->sock;
        ka_send($s, post_head("case=blocked&token=$token", 100000)
                    . 'x' x 10);
        Time::HiRes::sleep(0.3);    # the application has returned
        ka_send($s, 'y' x 40000);
        Time::HiRes::sleep(0.2);
        ka_send($s, 'z' x (100000 - 40010));
        my $r = ka_read($s, timeout => 5);
        $answered++ if $r->{status} == 200 && $r->{body} eq 'returned'
                       && $r->{complete};
        wait_until(sub { recorded($token) =~ /^read /m }, 2);
        my ($got) = recorded($token) =~ /^read (\S+)/m;
        $outcomes{$got // 'nothing'}++;
        $c->check_pid;
    }
    my $pid_changes = $c->changes;
    $c->drop;
    t_debug('the blocked thread\'s read(): '
            . join ', ', map { "$_ x $outcomes{$_}" } sort keys %outcomes);
    ok t_cmp($answered, $BLOCKED, "blocked: $BLOCKED answers are the application's, complete");
    ok t_cmp($pid_changes, 0, 'blocked: the same child before and after each');
    ok t_cmp(HostileTest::crash_lines(HostileTest::log_since($mark)), '',
             'blocked: no child crashed so far');
}

# --- (c) two threads in readline() at once ------------------------------------
stamp('twolines');
my $lines = join '', map { sprintf "line-%05d\n", $_ } 0 .. 1999;

# One round as the client sends it: the decoded JSON summary.
sub two_lines {
    my ($threads) = @_;
    my $s = $c->sock;
    ka_send($s, post_head("case=twolines&lines=2000&threads=$threads",
                          length $lines));
    for (my $off = 0; $off < length $lines; $off += 1000) {
        ka_send($s, substr($lines, $off, 1000));
        Time::HiRes::sleep(0.001);
    }
    my $r = ka_read($s, timeout => 5);
    my $j = $r->{status} == 200 ? decode_json_body($r, 'twolines') : {};
    return ($r, $j);
}

# The control: one thread reading the same body line by line.
$c = HostileTest::Conn->new;
{
    my ($r, $j) = two_lines(1);
    ok t_ok($r->{status} == 200 && ($j->{counts} || [0])->[0] == 2000
            && defined $j->{torn} && !$j->{torn} && !$j->{missing}
            && !$j->{dup}, 'twolines control: one thread gets the 2000 lines')
        or t_debug("status $r->{status}: $r->{body}");
    $c->drop;
}

{
    my ($exact, $answered, @bad) = (0, 0);
    $c = HostileTest::Conn->new;
    my $over = budget('twolines');
    for my $i (1 .. $TWOLINES) {
        last if $over->();
        my ($r, $j) = two_lines(2);
        $answered++ if $r->{status} == 200 && $r->{complete};
        my $sum = 0;
        $sum += $_ for @{ $j->{counts} || [] };
        if ($sum == 2000 && defined $j->{torn} && !$j->{torn}
            && !$j->{missing} && !$j->{dup} && !$j->{extra}
            && !@{ $j->{errors} || [] }) {
            $exact++;
        }
        else {
            push @bad, "round $i: status $r->{status} "
                . join(' ', map { "$_=" . (ref $j->{$_} ? "@{$j->{$_}}" : $j->{$_} // '?') }
                       qw(counts torn missing dup extra errors));
        }
        $c->check_pid;
    }
    my $pid_changes = $c->changes;
    $c->drop;
    t_debug($_) for @bad[0 .. ($#bad < 9 ? $#bad : 9)];
    ok t_cmp($exact, $TWOLINES,
             "twolines: $TWOLINES rounds, every line read exactly once in all, none torn");
    ok t_cmp($answered, $TWOLINES, 'twolines: every answer complete');
    ok t_cmp($pid_changes, 0, 'twolines: the same child before and after each');
}

ok $_ for finish_checks($mark, 'wsgi.input from threads');
