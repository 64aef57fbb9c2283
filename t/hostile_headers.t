# hostile_headers.t: singleton response headers given twice by the
# application.  Two different Content-Length, Content-Type or Location
# values are an application error: a 500 with a ValueError naming the
# header in the error_log, and the client never sees the header twice.
# Identical Content-Length values are one header; Set-Cookie, a list
# header, is sent as many times as the application gives it.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok log_during);
use HostileTest qw(ka_connect ka_get log_mark finish_checks FINISH_TESTS);

plan tests => 3 * 4 + 4 + 2 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

# GET one case; with $error, wait (up to 3 s) for its ValueError entry.
sub fetch {
    my ($case, $error) = @_;
    my $r;
    my @log = log_during(sub {
        my $sock = ka_connect();
        $r = ka_get($sock, "/hostile/dup?$case", close => 1);
        close $sock;
    }, $error ? (want => qr/ValueError/, settle => 3) : (settle => 0));
    return ($r, join '', @log);
}

for my $c (['cl_diff', 'Content-Length'], ['ct_diff', 'Content-Type'],
           ['loc_diff', 'Location']) {
    my ($case, $name) = @$c;
    my ($r, $log) = fetch($case, 1);
    ok t_cmp($r->{status}, 500, "$case: two different $name values give a 500");
    ok t_cmp($log, qr/ValueError[^\n]*\Q$name\E/i,
             "$case: the error_log has a ValueError naming $name");
    ok t_ok(@{ $r->{h}{lc $name} || [] } <= 1,
            "$case: the client never sees $name twice")
        or t_debug("headers:\n$r->{head_raw}");
    ok t_ok($r->{complete}, "$case: the 500 is a complete response");
}

{
    my ($r) = fetch('cl_same');
    ok t_cmp($r->{status}, 200, 'cl_same: Content-Length 5 twice (5-byte body) is a 200');
    ok t_cmp(join(',', @{ $r->{h}{'content-length'} || [] }), '5',
             'cl_same: exactly one Content-Length: 5 reaches the client')
        or t_debug("headers:\n$r->{head_raw}");
    ok t_cmp($r->{body}, '12345', 'cl_same: the body');
    ok t_ok($r->{complete}, 'cl_same: complete');
}
{
    my ($r) = fetch('cookies');
    ok t_cmp($r->{status}, 200, 'three Set-Cookie headers: 200');
    ok t_cmp(join(' ; ', @{ $r->{h}{'set-cookie'} || [] }),
             'a=1; Path=/ ; b=2; Path=/ ; c=3; Path=/',
             'every Set-Cookie reaches the client, in order');
}

ok $_ for finish_checks($mark, 'duplicate headers');
