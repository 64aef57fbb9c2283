# t/lib/WSLProc.pm: helpers for the process-level tests (t/proc_*.t) on a
# WSLServer of their own.
#
# - bget: WSLServer's get, but every read bounded by a deadline, so a
#   server whose children hang (the bugs these tests are about) fails the
#   test instead of hanging it;
# - children: the live child processes of such a server.
package WSLProc;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes ();

our @EXPORT_OK = qw(bget children);

# One GET on a fresh connection, at most $timeout (default 10) seconds in
# all: (status, body, raw headers); status 0 if none came in time.
sub bget {
    my ($srv, $path, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 10);
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $srv->port,
                                     Timeout => $timeout || 10)
        or return (0, '', '');
    print $sock "GET $path HTTP/1.0\r\nHost: localhost:" . $srv->port
        . "\r\n\r\n";
    my $sel = IO::Select->new($sock);
    my $data = '';
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $data .= $buf;
    }
    close $sock;
    my ($head, $body) = split /\r\n\r\n/, $data, 2;
    my ($code) = ($head // '') =~ m{^HTTP/\d\.\d (\d{3})};
    return ($code || 0, $body // '', $head // '');
}

sub children {
    my ($srv) = @_;
    my $parent = $srv->pid // -1;
    return grep { $_ != $parent } $srv->processes;
}

1;
