# t/lib/WSLServer.pm: a small Apache of a test's own, beside the suite's
# test server, for process-wide settings that the shared server cannot
# have (WSGIRestrictStdout On, WSGILazyInitialization Off, ...), and
# configtest runs.
#
#   my $srv = WSLServer->start(conf => $snippet);   # dies if it won't start
#   my ($code, $body) = $srv->get('/path');
#   $srv->signal('USR1'); $srv->wait_ready;
#   my $secs = $srv->stop;                          # time until all gone
#
# The server gets the suite's LoadModule lines (same MPM, same module),
# a free port on 127.0.0.1, and a directory of its own under TMPDIR.
package WSLServer;

use strict;
use warnings FATAL => 'all';

use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes ();
use POSIX ();

use Apache::Test ();

sub httpd { Apache::Test::vars('httpd') }

# The LoadModule lines of the suite's generated httpd.conf, each module
# once, the MPM first.
sub load_module_lines {
    my $conf = Apache::Test::vars('t_conf_file');
    open my $fh, '<', $conf or die "$conf: $!";
    my (%seen, @lines);
    while (my $line = <$fh>) {
        next unless $line =~ /^\s*LoadModule\s+(\S+)\s+(.+?)\s*$/;
        next if $seen{$1}++;
        push @lines, "LoadModule $1 $2";
    }
    close $fh;
    my @mpm = grep /\bmpm_\w+_module\b/, @lines;
    return join "\n", @mpm, grep(!/\bmpm_\w+_module\b/, @lines), '';
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

my $MPM_CONF = <<'CONF';
<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 2
    ThreadsPerChild 4
    MinSpareThreads 4
    MaxSpareThreads 8
    MaxRequestWorkers 8
</IfModule>
<IfModule mpm_worker_module>
    StartServers 2
    ServerLimit 2
    ThreadsPerChild 4
    MinSpareThreads 4
    MaxSpareThreads 8
    MaxRequestWorkers 8
</IfModule>
<IfModule mpm_prefork_module>
    StartServers 2
    MinSpareServers 2
    MaxSpareServers 3
    MaxRequestWorkers 3
</IfModule>
CONF

sub write_conf {
    my ($dir, $port, $snippet, $module_so) = @_;
    my $conf = "$dir/httpd.conf";
    my $modules = load_module_lines();
    $modules =~ s/^LoadModule\s+wsgi_lite_module\s.*$/LoadModule wsgi_module $module_so/m
        if $module_so;
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh "ServerRoot \"$dir\"\n", "DefaultRuntimeDir \"$dir\"\n",
        "PidFile \"$dir/httpd.pid\"\n", "ErrorLog \"$dir/error_log\"\n",
        "LogLevel info\n", "ServerName localhost\n",
        "Listen 127.0.0.1:$port\n", $modules, $MPM_CONF,
        "<IfModule mime_module>\n    TypesConfig /etc/mime.types\n</IfModule>\n",
        "DocumentRoot \"", Apache::Test::vars('documentroot'), "\"\n",
        $snippet, "\n";
    close $fh;
    return $conf;
}

# httpd -t on a configuration made of the snippet: (exit code, output).
# module_so => FILE loads that module as wsgi_module instead of
# mod_wsgi_lite (Debian's mod_wsgi: is the configuration valid there too?).
sub configtest {
    my ($class, $snippet, %opt) = @_;
    my $dir = File::Temp->newdir('wsl-configtest-XXXXXX', TMPDIR => 1);
    my $conf = write_conf("$dir", free_port(), $snippet, $opt{module_so});
    my $httpd = httpd();
    my $out = `"$httpd" -t -f "$conf" 2>&1`;
    return ($? >> 8, $out);
}

sub start {
    my ($class, %opt) = @_;
    my $tmp = File::Temp->newdir('wsl-server-XXXXXX', TMPDIR => 1);
    my $dir = "$tmp";
    my $port = free_port();
    my $self = bless { tmpdir => $tmp, dir => $dir, port => $port,
                       log => "$dir/error_log" }, $class;
    my $snippet = $opt{conf};
    $snippet =~ s/\@TMPDIR\@/$dir/g;
    $self->{conf} = write_conf($dir, $port, $snippet);
    my $httpd = httpd();
    my $out = `"$httpd" -f "$self->{conf}" -k start 2>&1`;
    die "cannot start $httpd -f $self->{conf}: $out " . $self->log_text
        if $?;
    my $pid;
    for (1 .. 100) {
        last if $pid = $self->pid;
        Time::HiRes::sleep(0.1);
    }
    die "no pid file from $httpd -f $self->{conf}: " . $self->log_text
        unless $pid;
    $self->{pid} = $pid;
    $self->wait_ready(30) or die "server on port $port does not answer: "
        . $self->log_text;
    return $self;
}

sub dir  { $_[0]{dir} }
sub port { $_[0]{port} }

sub pid {
    my $self = shift;
    open my $fh, '<', "$self->{dir}/httpd.pid" or return;
    my $pid = <$fh>;
    close $fh;
    return $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}

sub log_text {
    my $self = shift;
    open my $fh, '<', $self->{log} or return '';
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t;
}

# One GET on a fresh connection: (status, body, raw headers).
# One GET on a fresh connection, at most $timeout (default 30) seconds in
# all, every read bounded by that deadline (a server whose children hang
# fails the test instead of hanging it): (status, body, raw headers),
# status 0 if none came in time.
sub get {
    my ($self, $path, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 30);
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $self->{port},
                                     Timeout => 10) or return (0, '', '');
    print $sock "GET $path HTTP/1.0\r\nHost: localhost:$self->{port}\r\n\r\n";
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

sub wait_ready {
    my ($self, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 15);
    while (Time::HiRes::time() < $deadline) {
        my ($code) = $self->get('/__wsl_ping__', 5);
        return 1 if $code;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub signal {
    my ($self, $sig) = @_;
    kill $sig, $self->{pid};
}

# Every live process started from this server's config (parent and
# children share its command line).
# The server's child processes (zombies included: not gone yet either).
sub children {
    my $self = shift;
    my $parent = $self->{pid} // -1;
    return grep { $_ != $parent } $self->processes;
}

sub processes {
    my $self = shift;
    my @pids;
    opendir my $dh, '/proc' or return;
    for my $p (grep /^\d+$/, readdir $dh) {
        open my $fh, '<', "/proc/$p/cmdline" or next;
        local $/;
        my $cmd = <$fh> // '';
        close $fh;
        next unless index($cmd, $self->{conf}) >= 0;
        # A zombie has not gone yet either; report it too.
        push @pids, $p;
    }
    closedir $dh;
    return @pids;
}

# SIGTERM to the parent; returns the seconds until no process of this
# server was left (or undef after $timeout, default 15, and then SIGKILL).
sub stop {
    my ($self, $timeout) = @_;
    return 0 unless $self->{pid};
    my $t0 = Time::HiRes::time();
    kill 'TERM', $self->{pid};
    my $deadline = $t0 + ($timeout || 15);
    while (Time::HiRes::time() < $deadline) {
        unless ($self->processes) {
            delete $self->{pid};
            return Time::HiRes::time() - $t0;
        }
        Time::HiRes::sleep(0.05);
    }
    kill 'KILL', $self->processes;
    delete $self->{pid};
    return undef;
}

sub DESTROY {
    my $self = shift;
    if ($self->{pid} && kill 0, $self->{pid}) {
        kill 'TERM', $self->{pid};
        Time::HiRes::sleep(1);
        kill 'KILL', $self->processes;
    }
}

1;
