# proc_group.t: a client must not choose how many sub-interpreters a child
# makes.  %{RESOURCE} (the default) and %{SERVER} name a group after the
# virtual host that matched and its configured port (or, with no port
# configured, the port the connection arrived on), never after the Host
# header: requests that claim forty other ports and ten other host names
# all run in the one group a normal request runs in, no child logs a
# WSL00003 "created application group" for any other name, and the number
# of interpreters in each child (CPython's own list) does not grow.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok raw_request decode_json_body log_during test_port);

plan tests => 9, need_module 'mod_wsgi_lite.c';

my $port = test_port();
my $resource = "localhost:$port|/proc/group";
my $server = "localhost:$port";

sub ask {
    my ($path, $host) = @_;
    my $res = raw_request("GET $path HTTP/1.1\r\nHost: $host\r\n"
                          . "Connection: close\r\n\r\n", timeout => 20);
    return ($res->{status} // 0) == 200 ? decode_json_body($res, $path) : {};
}

# --- normal requests: the names are what they always were ---------------------
ok t_cmp(ask('/proc/group', "localhost:$port")->{group}, $resource,
         '%{RESOURCE} of a normal request: localhost:PORT|SCRIPT_NAME');
ok t_cmp(ask('/proc/server_group', "localhost:$port")->{group}, $server,
         '%{SERVER} of a normal request: localhost:PORT');

# --- hostile Host headers ----------------------------------------------------------
my @hosts = ((map { "localhost:" . (40000 + $_) } 1 .. 40),
             (map { "host$_.example" } 1 .. 5),
             (map { "host$_.example:" . (41000 + $_) } 1 .. 5));
my (%groups, %count, $answered);
my @lines = log_during(sub {
    for my $i (0 .. 1) {       # twice: each child sees some of each
        for my $host ("localhost:$port", @hosts) {
            for my $path ('/proc/group', '/proc/server_group') {
                my $j = ask($path, $host);
                next unless defined $j->{group};
                $answered++;
                $groups{$path}{ $j->{group} }++;
                push @{ $count{ $j->{pid} } }, $j->{interpreters}
                    if defined $j->{interpreters};
            }
        }
    }
}, settle => 0.5);
ok t_cmp($answered, 2 * 2 * (1 + @hosts), '(setup) every request answered');
ok t_cmp(join(' ', sort keys %{ $groups{'/proc/group'} }), $resource,
         '%{RESOURCE}: one group whatever port or host the Host header names');
ok t_cmp(join(' ', sort keys %{ $groups{'/proc/server_group'} }), $server,
         '%{SERVER}: one group whatever port or host the Host header names');

my @created = map { /created application group '([^']*)' \(pid (\d+)\)/ ? ["$1", "$2"] : () }
              grep /WSL00003:/, @lines;
my @foreign = grep { $_->[0] ne $resource && $_->[0] ne $server } @created;
ok t_cmp(join(', ', map { $_->[0] } @foreign), '',
         'no child created a group named after a client-chosen port or host');
my %per;
$per{"$_->[1] $_->[0]"}++ for @created;
ok t_cmp(join(', ', grep { $per{$_} > 1 } sort keys %per), '',
         'no child created the same group twice');
t_debug("WSL00003 entries during the requests: " . scalar(@created));

# Per child: the interpreters it has after its first answer to either URL
# can grow by at most the two groups these URLs use, not per Host.
my $grew = 0;
for my $pid (keys %count) {
    my @c = @{ $count{$pid} };
    my ($min, $max) = (sort { $a <=> $b } @c)[0, -1];
    $grew++ if $max - $min > 1;
    t_debug("pid $pid: interpreters $min..$max over " . scalar(@c) . " requests");
}
ok t_ok(scalar(keys %count), '(setup) the children reported their interpreter count');
ok t_cmp($grew, 0, 'no child\'s interpreter count grew by more than the second group');
