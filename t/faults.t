# faults.t: client faults and application faults leave nothing behind.
#
# Client faults, on a server of the test's own with ONE child (so the
# process whose descriptors are counted is the one that served): a client
# that disconnects mid-request-body, mid-response (streaming iterable),
# during a 100 MB wsgi.file_wrapper send (sparse file, sendfile), and one
# that stalls reading (small receive buffer, reads a little, closes).  For
# each: the application's close() ran exactly once, the child's open file
# descriptors (/proc/<pid>/fd) come back to what they were before, and the
# same child serves the next request.
#
# Application faults, on the suite's server: a hundred requests to the
# bad applications of t/htdocs/errors/, four clients at a time; each gets
# its 500 (or a truncated response once the body had started), each is
# logged once (one WSL00010 entry per request), and no child dies.
#
# Crashes, on a server of the test's own (two children): an application
# that segfaults (ctypes.string_at(0)) or calls os._exit(1) takes down only
# its own child; Apache starts another and the next requests succeed.
# make soak runs the application faults a thousand times each (soak/).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use IO::Handle ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF inet_aton
              sockaddr_in);
use Time::HiRes ();
use WSLTest qw(t_ok wait_until parse_response test_port logs_dir);
use WSLServer ();

plan tests => 4 * 5 + 2 + 4 + 2 * 6, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $faults = "$docroot/faults";

my $T0 = Time::HiRes::time();
sub stamp { t_debug(sprintf '%.1f s: %s', Time::HiRes::time() - $T0, $_[0]) }

# --- helpers -----------------------------------------------------------------
sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t // '';
}

sub children {
    my ($srv) = @_;
    return grep { !zombie($_) } $srv->children;
}

sub zombie {
    my ($pid) = @_;
    my $stat = read_file("/proc/$pid/stat");
    return $stat =~ /^\d+ \(.*\) Z /s;
}

sub fd_count {
    my ($pid) = @_;
    opendir my $dh, "/proc/$pid/fd" or return undef;
    my $n = grep !/^\./, readdir $dh;
    closedir $dh;
    return $n;
}

sub events {
    my ($srv) = @_;
    return split /\n/, read_file($srv->dir . '/events.log');
}

sub event_count {
    my ($srv, $event, $tag) = @_;
    return scalar grep /^\Q$event $tag\E \d+$/, events($srv);
}

sub connect_to {
    my ($srv, $rcvbuf) = @_;
    socket(my $sock, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    # Before connect(), or the window scale is already agreed.
    setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $rcvbuf)) or die $!
        if $rcvbuf;
    connect($sock, sockaddr_in($srv->port, inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $sock;
    $sock->autoflush(1);
    return $sock;
}

# Read from $sock until $want bytes (headers included) arrived or $timeout.
sub read_some {
    my ($sock, $want, $timeout, $chunk) = @_;
    my $sel = IO::Select->new($sock);
    my $got = '';
    my $deadline = Time::HiRes::time() + $timeout;
    while (length($got) < $want && Time::HiRes::time() < $deadline) {
        last unless $sel->can_read($deadline - Time::HiRes::time());
        my $n = sysread($sock, my $buf, $chunk || 65536);
        last unless $n;
        $got .= $buf;
    }
    return $got;
}

# --- client faults -----------------------------------------------------------
{
    my $srv = WSLServer->start(conf => <<"CONF");
# One child, so the descriptors counted are those of the serving process.
<IfModule mpm_event_module>
    ServerLimit 1
    StartServers 1
    ThreadsPerChild 4
    MinSpareThreads 1
    MaxSpareThreads 4
    MaxRequestWorkers 4
</IfModule>
<IfModule mpm_prefork_module>
    ServerLimit 1
    StartServers 1
    MinSpareServers 1
    MaxSpareServers 1
    MaxRequestWorkers 1
</IfModule>
Timeout 30
WSGIPythonPath "$faults"
WSGIScriptAlias /body "$faults/body.wsgi"
WSGIScriptAlias /stream "$faults/stream.wsgi"
WSGIScriptAlias /bigfile "$faults/bigfile.wsgi"
WSGIScriptAlias /pid "$faults/crash.wsgi"
SetEnv FAULTS_DIR "\@TMPDIR\@"
CONF
    stamp('client-fault server up');
    my $dir = $srv->dir;
    my $host = "Host: 127.0.0.1:" . $srv->port;

    # The file: 100 MB, sparse (no disk used).
    my $big = "$dir/big.bin";
    open my $fh, '>', $big or die "$big: $!";
    truncate $fh, 100 * 1024 * 1024 or die "truncate: $!";
    close $fh;
    open $fh, '>', "$dir/small.bin" or die $!;
    print $fh 'y' x 1000;
    close $fh;

    # Warm up every application (interpreter, imports, script cache) so that
    # what they open once for good is in the baseline.
    my @warm = (
        "POST /body?warm HTTP/1.0\r\n$host\r\nContent-Length: 5\r\n\r\nhello",
        "GET /stream?warm&2 HTTP/1.0\r\n$host\r\n\r\n",
        "GET /bigfile?small.bin HTTP/1.0\r\n$host\r\n\r\n",
        "GET /pid HTTP/1.0\r\n$host\r\n\r\n");
    for (1 .. 2) {
        for my $req (@warm) {
            my $sock = connect_to($srv);
            print $sock $req;
            read_some($sock, 1e9, 20);
            close $sock;
        }
    }

    stamp('warmed up');
    my ($child) = children($srv);
    my $before = wait_until(sub {
        # Settled: the warm-up connections are closed.
        my $a = fd_count($child);
        Time::HiRes::sleep(0.3);
        my $b = fd_count($child);
        return defined $a && $a == $b ? $b : undef;
    }, 10);
    t_debug("child $child, $before descriptors");

    my @cases = (
        ['mid-request-body disconnect', 'midbody', sub {
            my $sock = connect_to($srv);
            print $sock "POST /body?midbody HTTP/1.1\r\n$host\r\n"
                . "Content-Type: application/octet-stream\r\n"
                . "Content-Length: 10000000\r\n\r\n" . ('z' x 262144);
            wait_until(sub { event_count($srv, 'start', 'midbody') }, 20);
            Time::HiRes::sleep(0.2);
            close $sock;
        }],
        ['mid-response disconnect (streaming)', 'midresp', sub {
            my $sock = connect_to($srv);
            print $sock "GET /stream?midresp&3200 HTTP/1.1\r\n$host\r\n\r\n";
            my $got = read_some($sock, 1 << 20, 20);
            t_debug('read ' . length($got) . ' bytes of the stream');
            close $sock;
        }],
        ['disconnect during a 100 MB file_wrapper send', 'file-big.bin', sub {
            my $sock = connect_to($srv);
            print $sock "GET /bigfile?big.bin HTTP/1.1\r\n$host\r\n\r\n";
            my $got = read_some($sock, 1 << 20, 20);
            t_debug('read ' . length($got) . ' bytes of the file');
            close $sock;
        }],
        ['slow reader (4 KB buffer, reads a little, closes)', 'slow', sub {
            my $sock = connect_to($srv, 4096);
            print $sock "GET /stream?slow&3200 HTTP/1.1\r\n$host\r\n\r\n";
            for (1 .. 4) {
                read_some($sock, 1024, 5, 1024);
                Time::HiRes::sleep(0.5);
            }
            close $sock;
        }],
    );

    my $t0 = Time::HiRes::time();
    for my $case (@cases) {
        my ($name, $tag, $client) = @$case;
        t_debug(sprintf '%.1f s: %s', Time::HiRes::time() - $t0, $name);
        $client->();
        ok t_ok(wait_until(sub { event_count($srv, 'close', $tag) }, 30),
                "$name: the application's close() ran");
        Time::HiRes::sleep(0.3);
        ok t_cmp(event_count($srv, 'close', $tag), 1,
                 "$name: close() ran once");
        my ($started) = map { /^start \Q$tag\E (\d+)$/ ? $1 : () }
                        events($srv);
        ok t_cmp($started, $child, "$name: served by the child watched");
        my $after = wait_until(sub {
            my $n = fd_count($child);
            defined $n && $n <= $before ? $n : undef;
        }, 20) // fd_count($child);
        # Not above: in daemon mode the child may also have closed its
        # kept connection to the daemon (the response was cut short).
        ok t_ok(defined $after && $after <= $before,
                "$name: the child's open descriptors are back to $before "
                . "or fewer") or t_debug("now $after");
        my ($code, $body) = $srv->get('/pid');
        ok t_ok($code == 200 && $body eq $child,
                "$name: the same child serves the next request")
            or t_debug("got $code '$body', want $child");
    }

    my $log = $srv->log_text;
    ok t_cmp(join('', $log =~ /^.*(?:exit signal|Segmentation fault).*$/mg),
             '', 'client faults: no child died');
    ok t_ok(fd_count($child) && kill(0, $child),
            'client faults: the child is still the one that started');
    $srv->stop;
}

# --- application faults, under concurrency ---------------------------------
{
    # [ URI, what the client must see ]
    my @bad = (
        ['/errors/raise.wsgi', 500],
        ['/errors/iter_error.wsgi', 'truncated'],
        ['/errors/close_error.wsgi', 'close'],
        ['/errors/no_start.wsgi', 500],
        ['/errors/start_twice.wsgi', 500],
        ['/errors/status.wsgi?no_reason', 500],
        ['/errors/status.wsgi?crlf', 500],
        ['/errors/header.wsgi?space_name', 500],
        ['/errors/header.wsgi?crlf_value', 500],
        ['/errors/str.wsgi', 500],
        ['/errors/str_list.wsgi', 500],
        ['/errors/none.wsgi', 500],
    );
    stamp('app faults');
    my $clients = 4;
    my $per_client = 25;
    my $port = test_port();
    my $errlog = logs_dir() . '/error_log';
    my $log_start = -s $errlog;

    my @pids;
    my %want_logged;
    for my $c (0 .. $clients - 1) {
        for my $i (0 .. $per_client - 1) {
            my ($uri) = @{ $bad[($c * $per_client + $i) % @bad] };
            $want_logged{$uri}++;
        }
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $r;
            my $bad = 0;
            for my $i (0 .. $per_client - 1) {
                my ($uri, $want) = @{ $bad[($c * $per_client + $i) % @bad] };
                my $sock = IO::Socket::INET->new(
                    PeerAddr => "127.0.0.1:$port", Timeout => 30);
                my $res = {};
                if ($sock) {
                    print $sock "GET $uri HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
                        . "Connection: close\r\n\r\n";
                    my $data = '';
                    while (sysread($sock, my $buf, 65536)) { $data .= $buf }
                    close $sock;
                    $res = parse_response($data);
                }
                my $st = $res->{status} // 0;
                my $ok = $want eq 'truncated'
                    ? ($st == 500 || ($st == 200 && !$res->{complete}))
                    : $want eq 'close'
                    ? ($st == 200 && $res->{body} eq 'body before a failing close')
                    : $st == $want;
                unless ($ok) {
                    $bad++;
                    print $w "unexpected for $uri: status $st\n";
                }
            }
            print $w "bad $bad\n";
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pids, [$pid, $r];
    }
    my ($unexpected, @notes) = (0);
    for (@pids) {
        my ($pid, $r) = @$_;
        while (my $line = <$r>) {
            if ($line =~ /^bad (\d+)/) { $unexpected += $1 }
            else { push @notes, $line }
        }
        waitpid $pid, 0;
    }
    t_debug($_) for @notes[0 .. ($#notes < 5 ? $#notes : 4)];
    ok t_cmp($unexpected, 0,
             "app faults: $clients x $per_client requests, each answered as "
             . 'expected (500, or cut short once the body had started)');

    my $total = $clients * $per_client;
    my $tail = sub {
        open my $fh, '<', $errlog or return '';
        seek $fh, $log_start, 0;
        local $/;
        my $t = <$fh> // '';
        close $fh;
        return $t;
    };
    wait_until(sub { () = $tail->() =~ /WSL00010:/g; } , 15);
    my $text = $tail->();
    my %logged;
    for my $uri (keys %want_logged) {
        (my $path = $uri) =~ s/\?.*//;
        # The entry names r->uri (no query string): group by path.
        $logged{$path} //= () = $text =~ /WSL00010: [^\n]*'\Q$path\E'/g;
    }
    my %want_path;
    for my $uri (keys %want_logged) {
        (my $path = $uri) =~ s/\?.*//;
        $want_path{$path} += $want_logged{$uri};
    }
    my @wrong = grep { $logged{$_} != $want_path{$_} } sort keys %want_path;
    ok t_cmp("@wrong", '', "app faults: each of the $total requests logged "
             . 'once (one WSL00010 entry per request)')
        or t_debug(join ', ', map { "$_: $logged{$_}/$want_path{$_}" } @wrong);
    ok t_cmp(join('', $text =~ /^.*(?:exit signal|Segmentation fault).*$/mg),
             '', 'app faults: no child died');
    my $res = GET('/hello');
    ok t_cmp($res->content, 'Hello World', 'app faults: the server still says hello');
}

# --- crashes: only the crashing child goes ------------------------------------
{
    # Exactly two children, and spare workers that need both: one that
    # dies is replaced at once (by the MPM's idle maintenance), whichever
    # way it died.  Embedded in daemon mode too: this is about Apache's
    # children; a daemon process that crashes is t/daemon.t's.
    my $srv = WSLServer->start(embedded => 1, conf => <<"CONF");
<IfModule mpm_event_module>
    ServerLimit 2
    StartServers 2
    ThreadsPerChild 4
    MinSpareThreads 8
    MaxSpareThreads 12
    MaxRequestWorkers 8
</IfModule>
<IfModule mpm_prefork_module>
    ServerLimit 2
    StartServers 2
    MinSpareServers 2
    MaxSpareServers 2
    MaxRequestWorkers 2
</IfModule>
WSGIPythonPath "$faults"
WSGIScriptAlias /crash "$faults/crash.wsgi"
CONF
    stamp('crash server up');
    my $parent = $srv->pid;
    for my $how (qw(segv exit)) {
        stamp($how);
        my @before = children($srv);
        my $log_start = length $srv->log_text;
        my ($code) = $srv->get("/crash?$how", 20);
        ok t_cmp($code, 0, "$how: the crashing request gets no response");
        ok t_ok(kill(0, $parent) && $srv->pid == $parent,
                "$how: the parent survives");
        wait_until(sub {
            my %alive = map { $_ => 1 } children($srv);
            grep { !$alive{$_} } @before;
        }, 15);
        ok t_ok(wait_until(sub {
                    my @now = children($srv);
                    my %old = map { $_ => 1 } @before;
                    @now == @before && grep { !$old{$_} } @now;
                }, 30),
                "$how: Apache replaces the child (a new one, "
                . scalar(@before) . ' children again)');
        my @codes = map { ($srv->get('/crash'))[0] } 1 .. 20;
        ok t_cmp(scalar(grep { $_ == 200 } @codes), 20,
                 "$how: the next 20 requests succeed");
        my $log = substr($srv->log_text, $log_start);
        if ($how eq 'segv') {
            ok t_cmp($log, qr/exit signal Segmentation fault/,
                     'segv: the error log says the child died of SIGSEGV');
        }
        else {
            ok t_cmp($log, qr/^(?!.*exit signal)/s,
                     'exit: no signal death is logged for os._exit()');
        }
        my %alive = map { $_ => 1 } children($srv);
        ok t_ok(scalar(grep { $alive{$_} } @before) == @before - 1,
                "$how: exactly one of the children that were there is gone")
            or t_debug("before @before, now " . join ' ', keys %alive);
    }
    $srv->stop;
}
