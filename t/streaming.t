# Streaming: small chunks made back to back are coalesced (not a flush and
# a chunk header each), while anything that could wait on the application
# still goes out at once: the first chunk, a chunk that was slow to make,
# and the data before an explicit flush point (an empty bytes object).
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time);
use IO::Select;
use FindBin;
use lib "$FindBin::Bin/lib";
use WSLTest qw(t_ok raw_connect raw_request test_port);

plan tests => 9, need_module 'mod_wsgi_lite.c';

my $port = test_port();

# Send a GET and note when each marker first appears in the stream.
sub arrivals {
    my ($uri, @markers) = @_;
    my $sock = raw_connect();
    my $start = time;
    print $sock "GET $uri HTTP/1.1\r\nHost: localhost:$port\r\n"
        . "Connection: close\r\n\r\n";
    my (%seen, $data);
    my $sel = IO::Select->new($sock);
    while ($sel->can_read(10)) {
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $data .= $buf;
        for my $m (@markers) {
            $seen{$m} //= time - $start if index($data, $m) >= 0;
        }
    }
    close $sock;
    return \%seen;
}

my $t = arrivals('/handler/stream.wsgi?slow', "first\n", "second\n");
ok t_ok(defined $t->{"first\n"} && $t->{"first\n"} < 0.6,
        'the first chunk is sent before the application makes the next');
ok t_ok(defined $t->{"second\n"} && $t->{"second\n"} >= 0.9,
        'the slow second chunk arrives after its pause');

$t = arrivals('/handler/stream.wsgi?explicit', "burst\n", "tail\n");
ok t_ok(defined $t->{"burst\n"} && $t->{"burst\n"} < 0.6,
        'an empty bytes object is a flush point: data before it goes out');
ok t_ok(defined $t->{"tail\n"} && $t->{"tail\n"} >= 0.9,
        'data after the flush point follows the pause');

# 1,000 chunks of 100 bytes: count the HTTP/1.1 chunks on the wire.
my $r = raw_request("GET /handler/stream.wsgi?small HTTP/1.1\r\n"
                    . "Host: localhost:$port\r\nConnection: close\r\n\r\n");
ok t_cmp(length $r->{body}, 100_000, 'all 1,000 small chunks arrive');
ok t_cmp($r->{body}, join('', map { sprintf "%099d\n", $_ } 0 .. 999),
         'in order and intact');
my ($framing) = $r->{raw} =~ /\r\n\r\n(.*)\z/s;
my $frames = () = $framing =~ /(?:^|\r\n)[0-9a-fA-F]+\r\n/g;
ok t_ok($frames > 0 && $frames <= 20,
        "small chunks are coalesced ($frames HTTP chunks for 1,000 "
        . "application chunks)");

# Large chunks, each made fresh and dropped by the generator at once: the
# server holds them by reference until written, in batches; every byte
# must arrive once and in order.
my @sizes = ((65536) x 20, 1, 8192, 8193, 300000, 0, 1048576 + 3,
             65536 * 3, 5, 2097152, (131072) x 17);
my $expect = '';
for my $i (0 .. $#sizes) {
    $expect .= substr(sprintf('%07d:', $i) x (int($sizes[$i] / 8) + 1),
                      0, $sizes[$i]);
}
$r = raw_request("GET /handler/stream.wsgi?large HTTP/1.1\r\n"
                 . "Host: localhost:$port\r\nConnection: close\r\n\r\n");
ok t_cmp(length $r->{body}, length $expect,
         'large generator chunks: every byte arrives ('
         . length($expect) . ')');
ok t_ok($r->{body} eq $expect, 'large generator chunks: in order, intact');
