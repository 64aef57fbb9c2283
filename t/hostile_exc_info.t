# hostile_exc_info.t: start_response(status, headers, exc_info) with an
# exc_info that is not an exception triple: (None, None, None) (what
# sys.exc_info() gives outside an except block), (1, 2, 3), 'not a tuple',
# (ValueError, 'not an instance', None); before the headers are sent (as
# the first start_response call, or after a first one) and after (a
# generator has yielded body bytes).  And a real triple after the headers
# were sent (the proper re-raise).
#
#   (None, None, None)  = no exc_info: as the first call it just works
#                         (200); after a first call it is "start_response()
#                         called again" (500); after the headers, a
#                         truncated response (RuntimeError or TypeError)
#   other bad values    before the headers: a 500 and a TypeError in the
#                         log; after: a truncated response (chunked
#                         terminator missing, connection closed) and a
#                         logged TypeError
#   a real triple       after the headers: a truncated response, the
#                         triple's exception (KeyError) logged
# Never a crash, then or later: 50 more requests mixing these cases and
# /hello on keep-alive connections ((1, 2, 3) used to corrupt memory that a
# later request then tripped over).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok log_during);
use HostileTest qw(ka_connect ka_get log_mark finish_checks FINISH_TESTS
                   pid_on);

# [ case, expected answer, what the log must show ]
my @cases = (
    ['none_first',    '200',       undef],
    ['none_again',    '500',       qr/RuntimeError/],
    ['none_after',    'truncated', qr/RuntimeError|TypeError/],
    ['int_first',     '500',       qr/TypeError/],
    ['int_again',     '500',       qr/TypeError/],
    ['int_after',     'truncated', qr/TypeError/],
    ['str_first',     '500',       qr/TypeError/],
    ['str_again',     '500',       qr/TypeError/],
    ['str_after',     'truncated', qr/TypeError/],
    ['notinst_first', '500',       qr/TypeError/],
    ['notinst_again', '500',       qr/TypeError/],
    ['notinst_after', 'truncated', qr/TypeError/],
    ['real_after',    'truncated', qr/KeyError: 'hostile-exc-marker'/],
    ['real_again',    '203',       undef],
);
my $MIX = 50;

plan tests => 3 * @cases + 3 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

# Does the response $r match the expected answer $want?
sub answered {
    my ($r, $want) = @_;
    return $r->{status} == 200 && !$r->{complete} && !$r->{timeout}
           && $r->{body} eq 'head of body'
        if $want eq 'truncated';
    return $r->{status} == 200 && $r->{complete}
           && $r->{body} eq 'first body' if $want eq '200';
    return $r->{status} == 203 && $r->{complete}
           && $r->{body} eq 'again body' if $want eq '203';
    return $r->{status} == 500 && $r->{complete};
}

for my $c (@cases) {
    my ($case, $want, $logged) = @$c;
    my $r;
    my $log = join '', log_during(sub {
        my $sock = ka_connect();
        $r = ka_get($sock, "/hostile/excinfo?$case", close => 1,
                    timeout => 10);
        close $sock;
    }, want => $logged || qr/\A\z/, settle => $logged ? 2 : 0.5);
    ok t_ok(answered($r, $want), "$case: answered with $want")
        or t_debug("got $r->{status} complete=$r->{complete} body='$r->{body}'");
    if ($logged) {
        ok t_cmp($log, $logged, "$case: the log shows $logged");
    }
    else {
        ok t_cmp(join('', $log =~ /^.*(?:Error|Traceback).*$/mg), '',
                 "$case: nothing is logged");
    }
    ok t_cmp(join('', $log =~ /^.*SystemError.*$/mg), '',
             "$case: no SystemError (an exception set badly)");
}

# The mix: each case then /hello, on keep-alive connections (a new one
# when the case's answer ended the connection: a 500 or a truncated
# response), the child's pid compared over each /hello.
{
    my ($hello_ok, $case_ok, $pid_same) = (0, 0, 0);
    my $c = HostileTest::Conn->new;
    for my $i (0 .. $MIX - 1) {
        my ($case, $want) = @{ $cases[($i * 5) % @cases] };
        my $r = ka_get($c->sock, "/hostile/excinfo?$case", timeout => 10);
        $case_ok++ if answered($r, $want);
        my $h = ka_get($c->sock, '/hello', timeout => 10);
        $hello_ok++ if $h->{status} == 200 && $h->{body} eq 'Hello World'
                       && $h->{complete};
        $pid_same++ if $c->check_pid;
    }
    $c->drop;
    ok t_cmp($case_ok, $MIX, "mix: $MIX bad exc_info requests answered as expected");
    ok t_cmp($hello_ok, $MIX, "mix: every /hello between them answered correctly");
    ok t_cmp($pid_same, $MIX, 'mix: the child of each connection is the same before and after');
}

ok $_ for finish_checks($mark, 'bad exc_info');
