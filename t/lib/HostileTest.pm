# t/lib/HostileTest.pm: helpers for the hostile_*.t tests (applications
# that misuse the WSGI objects: threads, callbacks after the end, bad
# arguments).
#
# - ka_connect / ka_send / ka_read: one keep-alive connection, one
#   response at a time, every read bounded by a deadline;
# - ka_get: send a GET and read its response;
# - log_mark / log_since / crash_lines: the error_log written since a mark,
#   and the lines in it that say a child crashed;
# - pid_on: the serving child's pid (the /hostile/pid app) on a connection;
# - finish_checks: the checks each file ends with (the server still says
#   hello, and no crash line in its error_log).
package HostileTest;

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET ();
use IO::Select ();
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes ();

use Apache::Test ();
use WSLTest ();
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp t_debug);

our @EXPORT_OK = qw(ka_connect ka_send ka_read ka_get log_mark log_since
    crash_lines pid_on finish_checks FINISH_TESTS stamp host_header recorded);

# A server that dies mid-request must fail a test, not kill it.
$SIG{PIPE} = 'IGNORE';

my $T0 = Time::HiRes::time();
sub stamp { t_debug(sprintf '%.1f s: %s', Time::HiRes::time() - $T0, $_[0]) }

sub host_header { 'Host: ' . Apache::TestRequest::hostport() }

# What the apps' threads wrote to t/logs/hostile-<token>.log ('' if none).
sub recorded {
    my ($token) = @_;
    my $logs = Apache::Test::vars('t_logs');
    open my $fh, '<', "$logs/hostile-$token.log" or return '';
    local $/;
    my $t = <$fh> // '';
    close $fh;
    return $t;
}

# A connection to the suite's server (or to 127.0.0.1:$opt{port}); with
# rcvbuf => N a small receive buffer, set before connecting so the window
# stays small.
sub ka_connect {
    my (%opt) = @_;
    my $hostport = $opt{port} ? "127.0.0.1:$opt{port}"
                              : Apache::TestRequest::hostport();
    my ($host, $port) = $hostport =~ /^(.*):(\d+)$/;
    my $sock;
    if ($opt{rcvbuf}) {
        $sock = IO::Socket::INET->new(Proto => 'tcp', Timeout => 10)
            or die "socket: $!";
        setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $opt{rcvbuf}))
            or die "SO_RCVBUF: $!";
        my $addr = Socket::sockaddr_in($port, Socket::inet_aton($host));
        $sock->connect($addr) or die "cannot connect to $hostport: $!";
    }
    else {
        $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10)
            or die "cannot connect to $hostport: $!";
    }
    binmode $sock;
    $sock->autoflush(1);
    return $sock;
}

# Write all of $data (bounded: 10 s).
sub ka_send {
    my ($sock, $data) = @_;
    my $sel = IO::Select->new($sock);
    my $deadline = Time::HiRes::time() + 10;
    while (length $data) {
        my $left = $deadline - Time::HiRes::time();
        return 0 if $left <= 0 || !$sel->can_write($left);
        my $n = syswrite($sock, $data);
        return 0 unless $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

# Read exactly one response from $sock within $timeout seconds (default
# 15).  Keeps what follows it in ${*$sock}{hostile_buf} for the next call.
# Returns a hash: status, reason, headers, h (lc name => [values]), body
# (de-chunked), raw (the bytes of this response), complete (framed
# correctly), closed (the server closed the connection), timeout (the
# deadline passed first), head_raw.
# Options: head => 1 (a HEAD: no body), slow_start => seconds to wait
# before reading anything after the header block (a slow reader),
# after_head => code called with the response hash (headers parsed) before
# the body is read.
sub ka_read {
    my ($sock, %opt) = @_;
    my $timeout = $opt{timeout} // 15;
    my $deadline = Time::HiRes::time() + $timeout;
    my $buf = \${*$sock}{hostile_buf};
    $$buf //= '';
    my %r = (status => 0, reason => '', headers => [], h => {}, body => '',
             complete => 0, closed => 0, timeout => 0, raw => '');
    my $sel = IO::Select->new($sock);
    my $fill = sub {
        my ($max) = @_;
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0 || !$sel->can_read($left)) {
            $r{timeout} = 1;
            return 0;
        }
        my $n = sysread($sock, my $chunk, $max || 262144);
        if (!$n) {
            $r{closed} = 1;
            return 0;
        }
        $$buf .= $chunk;
        return 1;
    };
    my $end;
    while (($end = index($$buf, "\r\n\r\n")) < 0) {
        $fill->(4096) or do {
            $r{raw} = $$buf;
            $$buf = '';
            ${*$sock}{hostile_closed} = 'eof';
            return \%r;
        };
    }
    my $block = substr($$buf, 0, $end);
    my $raw = substr($$buf, 0, $end + 4, '');
    $r{head_raw} = $block;
    my ($status_line, @lines) = split /\r\n/, $block;
    @r{qw(protocol status reason)} =
        ($status_line // '') =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?$};
    $r{status} //= 0;
    $r{reason} //= '';
    for (@lines) {
        my ($n, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @{ $r{headers} }, [$n, $v];
        push @{ $r{h}{lc $n} }, $v;
    }
    Time::HiRes::sleep($opt{slow_start}) if $opt{slow_start};
    $opt{after_head}->(\%r) if $opt{after_head};
    my $te = join ',', @{ $r{h}{'transfer-encoding'} || [] };
    my $cl = $r{h}{'content-length'};
    if ($opt{head} || $r{status} =~ /^(?:1\d\d|204|304)$/) {
        $r{complete} = 1;
    }
    elsif ($te =~ /chunked/i) {
        my $body = '';
        CHUNK: while (1) {
            my $eol;
            while (($eol = index($$buf, "\r\n")) < 0) {
                $fill->() or last CHUNK;
            }
            my $line = substr($$buf, 0, $eol + 2, '');
            $raw .= $line;
            my ($hex) = $line =~ /^([0-9a-fA-F]{1,12})(?:;[^\r\n]*)?\r\n\z/ or last;
            my $size = hex $hex;
            if ($size == 0) {
                # Trailers (none expected) up to the blank line.
                while (($eol = index($$buf, "\r\n")) < 0) {
                    $fill->() or last CHUNK;
                }
                $raw .= substr($$buf, 0, $eol + 2, '');
                $r{complete} = 1;
                last;
            }
            while (length($$buf) < $size + 2) {
                $fill->() or last CHUNK;
            }
            $body .= substr($$buf, 0, $size);
            $raw .= substr($$buf, 0, $size + 2, '');
        }
        if (!$r{complete}) {      # what came of a cut-short chunk
            $raw .= $$buf;
            $$buf = '';
        }
        $r{body} = $body;
    }
    elsif (defined $cl) {
        my $want = $cl->[0];
        while (length($$buf) < $want) {
            $fill->() or last;
        }
        $r{body} = substr($$buf, 0, $want, '');
        $raw .= $r{body};
        $r{complete} = length($r{body}) == $want;
    }
    else {
        # Delimited by the end of the connection.
        1 while $fill->();
        $r{body} = $$buf;
        $raw .= $$buf;
        $$buf = '';
        $r{complete} = $r{closed};
    }
    $r{raw} = $raw;
    # The server ends the connection after this response (a 500, the
    # MaxKeepAliveRequests-th request): the next one needs a new one.
    my $announced = grep /\bclose\b/i, @{ $r{h}{connection} || [] };
    $r{closed} = 1 if $announced;
    ${*$sock}{hostile_closed} = $announced && $r{complete} ? 'announced'
                              : 'eof' if $r{closed} || $r{timeout};
    return \%r;
}

# Is $sock done for?  'announced' when the server ended it in good order
# after a complete response (Connection: close), 'eof' when it closed it
# otherwise or a response timed out, '' while it is usable.
sub ka_closed {
    my ($sock) = @_;
    return 'eof' unless $sock;
    return ${*$sock}{hostile_closed} || '';
}
push @EXPORT_OK, 'ka_closed';

# Whatever the server sends within $secs (default 0.5) on an idle
# connection: '' when nothing (or only a close) came.
sub ka_extra {
    my ($sock, $secs) = @_;
    my $buf = \${*$sock}{hostile_buf};
    my $got = $$buf // '';
    $$buf = '';
    return $got . WSLTest::read_until_eof($sock,
                                          Time::HiRes::time() + ($secs // 0.5));
}
push @EXPORT_OK, 'ka_extra';

# Does the server close $sock within $secs (default 5), with nothing more
# sent on it?
sub ka_eof {
    my ($sock, $secs) = @_;
    return 0 if length(${*$sock}{hostile_buf} // '');
    my $sel = IO::Select->new($sock);
    return 0 unless $sel->can_read($secs // 5);
    my $n = sysread($sock, my $chunk, 65536);
    return defined $n && $n == 0 ? 1 : 0;
}
push @EXPORT_OK, 'ka_eof';

sub ka_get {
    my ($sock, $path, %opt) = @_;
    my $method = $opt{method} || 'GET';
    my $req = "$method $path HTTP/1.1\r\n" . ($opt{host} || host_header())
            . "\r\n" . ($opt{close} ? "Connection: close\r\n" : '')
            . ($opt{headers} || '') . "\r\n";
    unless (ka_send($sock, $req)) {
        ${*$sock}{hostile_closed} = 'eof';
        return { status => 0, closed => 1, body => '', h => {}, headers => [],
                 raw => '', complete => 0, timeout => 0 };
    }
    return ka_read($sock, %opt, head => $method eq 'HEAD');
}

# The serving child's pid on $sock, or 0.
sub pid_on {
    my ($sock, %opt) = @_;
    my $r = ka_get($sock, '/hostile/pid', %opt);
    return $r->{status} == 200 && $r->{body} =~ /^(\d+)$/ ? $1 : 0;
}

# A keep-alive connection that is opened again when the server ended it,
# with the pid of the child serving it (asked when it is opened):
#   my $c = HostileTest::Conn->new(%connect_options);
#   ka_get($c->sock, ...);  ...;  $c->check_pid;   # same child still?
#   $c->changes: the checks that failed.
{
    package HostileTest::Conn;

    sub new {
        my ($class, %opt) = @_;
        return bless { opt => \%opt, changes => 0 }, $class;
    }

    sub sock {
        my $self = shift;
        if (!$self->{sock} || HostileTest::ka_closed($self->{sock})) {
            $self->drop;
            $self->{sock} = HostileTest::ka_connect(%{ $self->{opt} });
            $self->{pid} = HostileTest::pid_on($self->{sock},
                                               %{ $self->{opt} },
                                               timeout => 5);
        }
        return $self->{sock};
    }

    sub drop {
        my $self = shift;
        close $self->{sock} if $self->{sock};
        delete $self->{sock};
    }

    # Is the child that served this connection when it was opened still
    # the one serving it?  A connection the server ended in good order
    # (Connection: close after a complete response) counts as yes: there
    # is nothing to ask on.  One that broke off counts as no.
    sub check_pid {
        my $self = shift;
        my $state = HostileTest::ka_closed($self->{sock});
        if ($state eq 'announced') {
            $self->drop;
            return 1;
        }
        my $now = $state ? 0 : HostileTest::pid_on($self->{sock},
                                                   %{ $self->{opt} },
                                                   timeout => 5);
        my $same = $self->{pid} && $now && $now == $self->{pid};
        $self->{changes}++ unless $same;
        $self->drop if !$now || HostileTest::ka_closed($self->{sock});
        return $same;
    }

    sub changes { $_[0]{changes} }
    sub reset_changes { $_[0]{changes} = 0 }
}

sub error_log_file {
    my ($file) = @_;
    return $file || Apache::Test::vars('t_logs') . '/error_log';
}

# A mark in the error_log (its size now).
sub log_mark {
    my ($file) = @_;
    return -s error_log_file($file) || 0;
}

sub log_since {
    my ($mark, $file) = @_;
    open my $fh, '<', error_log_file($file) or return '';
    seek $fh, $mark, 0;
    local $/;
    my $t = <$fh> // '';
    close $fh;
    return $t;
}

sub crash_lines {
    my ($text) = @_;
    return join '', $text =~ /^.*(?:Segmentation fault|Fatal Python error|AddressSanitizer|exit signal).*$/mg;
}

use constant FINISH_TESTS => 2;

# The server still serves /hello on a fresh connection, and the error_log
# since $mark has no crash lines.  Two tests.
sub finish_checks {
    my ($mark, $what, %opt) = @_;
    my $sock = eval { ka_connect(%opt) };
    my $r = $sock ? ka_get($sock, '/hello', close => 1, host => $opt{host})
                  : { status => 0, body => '' };
    close $sock if $sock;
    Apache::TestUtil::t_debug("error_log tail:\n" . substr(log_since($mark, $opt{log}), -3000))
        if crash_lines(log_since($mark, $opt{log}));
    my @ok = (
        t_cmp("$r->{status} $r->{body}", '200 Hello World',
              "$what: afterwards the server still says hello"),
        t_cmp(crash_lines(log_since($mark, $opt{log})), '',
              "$what: no crash line in the error_log"));
    return @ok;
}

1;
