# hostile_close_write.t: write() called from the iterable's close() with
# bytes that look like a whole HTTP response.  The response has ended by
# then: write() raises RuntimeError (close() lets it propagate, so a
# traceback with RuntimeError is logged) and none of those bytes reaches
# the connection.  On one keep-alive connection: GET the app, then GET
# /hello: the second response is the real hello, and "forged" is nowhere
# on the wire.  Three forms: a list subclass (an exact list has no close()
# to call), a generator-like iterable, and the list subclass with the
# application's own Content-Length (framed by it, not chunked).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok log_during wait_until);
use HostileTest qw(recorded ka_connect ka_get ka_extra log_mark finish_checks
                   FINISH_TESTS pid_on);

my $ROUNDS = 5;
plan tests => 3 * 8 + 2 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

for my $mode (qw(list gen clen)) {
    my (@first_ok, @hello_ok, @same_pid, @raised, $wire, @logs);
    for my $i (1 .. $ROUNDS) {
        my $token = "forge-$mode-$$-$i";
        my ($r, $h, $pid, $pid2);
        my @log = log_during(sub {
            my $sock = ka_connect();
            $pid = pid_on($sock);
            $r = ka_get($sock, "/hostile/forge?mode=$mode&token=$token",
                        timeout => 10);
            $h = ka_get($sock, '/hello', timeout => 10);
            $pid2 = pid_on($sock, timeout => 5);
            $wire = join '', $r->{raw}, $h->{raw}, ka_extra($sock, 0.3);
            close $sock;
        }, want => qr/RuntimeError/, settle => 2);
        push @logs, join '', @log;
        push @first_ok, $r->{status} == 200 && $r->{body} eq 'real body'
                        && $r->{complete};
        push @hello_ok, $h->{status} == 200 && $h->{body} eq 'Hello World'
                        && $h->{complete} && $wire !~ /forged/;
        push @same_pid, $pid && $pid2 && $pid == $pid2;
        wait_until(sub { recorded($token) =~ /^write / }, 3);
        push @raised, recorded($token) =~ /^write RuntimeError$/m;
        t_debug("round $i: first $r->{status} '$r->{body}', second "
                . "$h->{status} '$h->{body}', pids $pid/$pid2, recorded "
                . recorded($token)) unless $hello_ok[-1] && $raised[-1];
        t_debug("wire:\n$wire") if $wire =~ /forged/;
    }
    my $n = sub { scalar grep $_, @_ };
    ok t_cmp($n->(@first_ok), $ROUNDS,
             "$mode: the app's response is the real body, complete ($ROUNDS rounds)");
    ok t_cmp($n->(@raised), $ROUNDS,
             "$mode: write() from close() raises RuntimeError");
    ok t_cmp($n->(@hello_ok), $ROUNDS,
             "$mode: the next request on the connection gets the real "
             . 'hello, and "forged" never reaches the wire');
    ok t_cmp($n->(@same_pid), $ROUNDS,
             "$mode: the same child answers before and after, on the same connection");
    ok t_cmp(scalar(grep /RuntimeError/, @logs), $ROUNDS,
             "$mode: the close() failure is logged with RuntimeError");
    ok t_cmp(scalar(grep /Traceback/, @logs), $ROUNDS,
             "$mode: with a traceback");
    ok t_cmp(scalar(grep /forged|SystemError/, @logs), 0,
             "$mode: nothing else is logged about it");
    ok t_cmp(scalar(grep /\bclose\(\)|\bin close\b/, @logs), $ROUNDS,
             "$mode: the log entry says it was in close()")
        or t_debug($logs[0]);
}

# The same apps on a connection that pipelines its next request: the
# forged response must not be taken for its answer either.
{
    my $sock = ka_connect();
    my $host = HostileTest::host_header();
    HostileTest::ka_send($sock,
        "GET /hostile/forge?mode=gen&token=pipe-$$ HTTP/1.1\r\n$host\r\n\r\n"
        . "GET /hello HTTP/1.1\r\n$host\r\n\r\n");
    my $r = HostileTest::ka_read($sock, timeout => 10);
    my $h = HostileTest::ka_read($sock, timeout => 10);
    ok t_cmp("$r->{status} $r->{body}", '200 real body', 'pipelined: the app\'s answer');
    ok t_ok($h->{body} eq 'Hello World' && "$r->{raw}$h->{raw}" !~ /forged/,
            'pipelined: the second answer is the real hello')
        or t_debug("second: $h->{status} '$h->{body}'");
    close $sock;
}

ok $_ for finish_checks($mark, 'write() from close()');
