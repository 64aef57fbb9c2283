# hostile_short_length.t: a Content-Length longer than the body.  The
# application says Content-Length: 100 and gives 5 bytes, as a list or a
# generator: the client must see a truncated response (status 200, its
# Content-Length: 100, 5 body bytes, then the connection closed), never a
# complete one, and WSL00032 is logged.  HEAD to the same application is
# answered normally.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok log_during);
use HostileTest qw(ka_connect ka_get ka_eof log_mark finish_checks FINISH_TESTS);

plan tests => 2 * 6 + 4 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

for my $form (qw(list gen)) {
    my $r;
    my @log = log_during(sub {
        my $sock = ka_connect();
        # No "Connection: close": the server must close it itself.
        $r = ka_get($sock, "/hostile/shortcl?$form", timeout => 10);
        $r->{eof} = ka_eof($sock, 5);
        close $sock;
    }, want => qr/WSL00032/, settle => 3);
    ok t_cmp($r->{status}, 200, "$form: status 200");
    ok t_cmp(join(',', @{ $r->{h}{'content-length'} || [] }), '100',
             "$form: the client sees the application's Content-Length: 100")
        or t_debug("headers:\n$r->{head_raw}");
    ok t_cmp($r->{body}, '12345', "$form: the 5 body bytes arrive");
    ok t_ok(!$r->{complete}, "$form: the response is not complete");
    ok t_ok($r->{eof} && !$r->{timeout},
            "$form: the server closes the connection (no wait for a timeout)");
    ok t_cmp(join('', @log), qr/WSL00032/, "$form: WSL00032 is logged");
}

{
    my $sock = ka_connect();
    my $r = ka_get($sock, '/hostile/shortcl?list', method => 'HEAD',
                   timeout => 10);
    ok t_cmp($r->{status}, 200, 'HEAD: status 200');
    ok t_cmp($r->{body}, '', 'HEAD: no body');
    my $h = ka_get($sock, '/hello', timeout => 10);
    ok t_cmp("$h->{status} $h->{body}", '200 Hello World',
             'HEAD: the connection goes on (GET /hello answered on it)');
    ok t_ok($h->{complete}, 'HEAD: and /hello after it is complete');
    close $sock;
}

ok $_ for finish_checks($mark, 'short Content-Length');
