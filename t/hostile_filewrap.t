# hostile_filewrap.t: wsgi.file_wrapper over file-likes that hold more
# than the declared Content-Length, or never end.  /dev/zero with
# Content-Length 10 MiB: exactly 10 MiB of zeros, and the next request on
# the same keep-alive connection is answered within seconds (the server
# stops reading at the Content-Length).  A pipe that a thread keeps
# filling (Content-Length 100000) and an io.BytesIO of 1 MB
# (Content-Length 1000): exactly Content-Length bytes.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok);
use HostileTest qw(ka_connect ka_get log_mark finish_checks FINISH_TESTS
                   pid_on);

plan tests => 5 + 2 * 4 + FINISH_TESTS, need_module 'mod_wsgi_lite.c';

my $mark = log_mark();

{
    my $sock = ka_connect();
    my $pid = pid_on($sock);
    my $r = ka_get($sock, '/hostile/filewrap?devzero', timeout => 30);
    ok t_cmp($r->{status}, 200, '/dev/zero: status 200');
    ok t_cmp(length $r->{body}, 10 * 1024 * 1024,
             '/dev/zero: exactly 10 MiB arrive');
    ok t_ok($r->{body} !~ /[^\0]/, '/dev/zero: all of them zeros');
    my $h = ka_get($sock, '/hello', timeout => 5);
    ok t_cmp("$h->{status} $h->{body}", '200 Hello World',
             '/dev/zero: the next request on the connection is answered '
             . 'within 5 s') or t_debug("timeout $h->{timeout} closed $h->{closed}");
    my $after = $h->{status} ? pid_on($sock, timeout => 5) : 0;
    ok t_cmp($after, $pid, '/dev/zero: by the same child');
    close $sock;
}

for my $c (['pipe', 100000, 'p'], ['bytesio', 1000, 'b']) {
    my ($src, $len, $byte) = @$c;
    my $sock = ka_connect();
    my $r = ka_get($sock, "/hostile/filewrap?$src", timeout => 30);
    ok t_cmp($r->{status}, 200, "$src: status 200");
    ok t_cmp(length($r->{body}), $len, "$src: exactly Content-Length ($len) bytes");
    ok t_ok($r->{body} !~ /[^\Q$byte\E]/, "$src: all the file's bytes");
    my $h = ka_get($sock, '/hello', timeout => 5);
    ok t_cmp("$h->{status} $h->{body}", '200 Hello World',
             "$src: the next request on the connection is answered");
    close $sock;
}

ok $_ for finish_checks($mark, 'file_wrapper');
