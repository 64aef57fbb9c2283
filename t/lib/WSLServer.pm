# t/lib/WSLServer.pm: a small Apache of a test's own, beside the suite's
# test server, for process-wide settings that the shared server cannot
# have (WSGIRestrictStdout On, WSGILazyInitialization Off, ...), and
# configtest runs.
#
#   my $srv = WSLServer->start(conf => $snippet);   # dies if it won't start
#   my ($code, $body) = $srv->get('/path');
#   my ($code, $body, $head) = $srv->request(POST => '/path',
#       headers => ['Content-Type' => 'text/plain'], body => 'x=1');
#   $srv->signal('USR1'); $srv->wait_ready;
#   my $secs = $srv->stop;                          # time until all gone
#
# The server gets the suite's LoadModule lines (same MPM, same module),
# a free port on 127.0.0.1, and a directory of its own under TMPDIR.
# With module => 'mod_wsgi' it loads Debian's mod_wsgi (the reference,
# compat.t) in place of the module under test, everything else the same:
#
#   my $ref = WSLServer->start(conf => $snippet, module => 'mod_wsgi')
#       if WSLServer::mod_wsgi_so();
#
# In t/run.sh's daemon mode (WSL_MODE=daemon) every server, mod_wsgi's
# too, sends its requests to a daemon process group (wsl-server), as the
# suite's own server does, unless started with embedded => 1: a server
# whose configuration is about embedded mode (WSGIRestrictEmbedded, what
# runs in Apache's children).
package WSLServer;

use strict;
use warnings FATAL => 'all';

use File::Temp ();
use IO::Socket::INET ();
use Time::HiRes ();
use POSIX ();

use Apache::Test ();
use WSLTest ();

sub httpd { Apache::Test::vars('httpd') }

# Debian's mod_wsgi (libapache2-mod-wsgi-py3, a test-only package of
# scripts/deps.sh), or undef when it is not installed.
my $MOD_WSGI_SO = '/usr/lib/apache2/modules/mod_wsgi.so';
sub mod_wsgi_so { -f $MOD_WSGI_SO ? $MOD_WSGI_SO : undef }

# The LoadModule lines of the suite's generated httpd.conf, each module
# once, the MPM first; for module => 'mod_wsgi', Debian's mod_wsgi takes
# the place of the module under test (both embed libpython: never both).
sub load_module_lines {
    my ($module) = @_;
    $module //= 'mod_wsgi_lite';
    die "WSLServer: module must be mod_wsgi_lite or mod_wsgi, not $module\n"
        unless $module =~ /^mod_wsgi(?:_lite)?$/;
    my $conf = Apache::Test::vars('t_conf_file');
    open my $fh, '<', $conf or die "$conf: $!";
    my (%seen, @lines);
    while (my $line = <$fh>) {
        next unless $line =~ /^\s*LoadModule\s+(\S+)\s+(.+?)\s*$/;
        next if $seen{$1}++;
        if ($1 eq 'wsgi_lite_module' && $module eq 'mod_wsgi') {
            my $so = mod_wsgi_so() or die "WSLServer: $MOD_WSGI_SO not "
                . "installed (libapache2-mod-wsgi-py3)\n";
            push @lines, "LoadModule wsgi_module $so";
            next;
        }
        push @lines, "LoadModule $1 $2";
    }
    close $fh;
    die "WSLServer: no wsgi_lite_module line in $conf to replace\n"
        if $module eq 'mod_wsgi' && !grep /^LoadModule wsgi_module /, @lines;
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
    my ($dir, $port, $snippet, $module, $embedded) = @_;
    my $daemon = ($ENV{WSL_MODE} // '') eq 'daemon' && !$embedded;
    # In daemon mode a WSGIImportScript without process-group= would run in
    # Apache's children only (mod_wsgi's rule), not where the requests now
    # go: it is given the daemon group, as a site moved to daemon mode is.
    $snippet =~ s/^(\s*WSGIImportScript\b(?!.*\bprocess-group=).*)$/$1 process-group=wsl-server/mg
        if $daemon;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh "ServerRoot \"$dir\"\n", "DefaultRuntimeDir \"$dir\"\n",
        "PidFile \"$dir/httpd.pid\"\n", "ErrorLog \"$dir/error_log\"\n",
        "LogLevel info\n", "ServerName localhost\n",
        "Listen 127.0.0.1:$port\n", load_module_lines($module), $MPM_CONF,
        "<IfModule mime_module>\n    TypesConfig /etc/mime.types\n</IfModule>\n",
        "DocumentRoot \"", Apache::Test::vars('documentroot'), "\"\n",
        ($daemon
         ? "# t/run.sh's daemon mode (the suite's own server has the same)\n"
           . "WSGISocketPrefix \"$dir/wsgi\"\n"
           . "WSGIDaemonProcess wsl-server processes=1 threads=16\n"
           . "WSGIProcessGroup wsl-server\n" : ''),
        $snippet, "\n";
    close $fh;
    return $conf;
}

# httpd -t on a configuration made of the snippet: (exit code, output).
# module => 'mod_wsgi' checks it with Debian's mod_wsgi instead (is the
# configuration valid there too?).
sub configtest {
    my ($class, $snippet, %opt) = @_;
    my $dir = File::Temp->newdir('wsl-configtest-XXXXXX', TMPDIR => 1);
    # A configtest checks the text as given, never daemon mode's lines.
    my $conf = write_conf("$dir", free_port(), $snippet, $opt{module}, 1);
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
    $self->{module} = $opt{module} // 'mod_wsgi_lite';
    $self->{conf} = write_conf($dir, $port, $snippet, $self->{module},
                               $opt{embedded});
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

sub dir    { $_[0]{dir} }
sub port   { $_[0]{port} }
sub module { $_[0]{module} }

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

# One GET on a fresh connection, at most $timeout (default 30) seconds in
# all, every read bounded by that deadline (a server whose children hang
# fails the test instead of hanging it): (status, body, raw headers),
# status 0 if none came in time.
sub get {
    my ($self, $path, $timeout) = @_;
    return $self->request(GET => $path, timeout => $timeout, http10 => 1);
}

# Any request, on a fresh connection, bounded like get(): HTTP/1.1 with
# "Connection: close" (HTTP/1.0 with http10 => 1), the Host header, then
# headers => [name => value, ...] in order, and body => bytes with its
# Content-Length.  (status, body, raw headers); a HEAD's body is empty.
sub request {
    my ($self, $method, $path, %opt) = @_;
    my $deadline = Time::HiRes::time() + ($opt{timeout} || 30);
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $self->{port},
                                     Timeout => 10) or return (0, '', '');
    binmode $sock;
    my $req = "$method $path HTTP/1." . ($opt{http10} ? 0 : 1) . "\r\n"
        . "Host: localhost:$self->{port}\r\n";
    $req .= "Connection: close\r\n" unless $opt{http10};
    my @headers = @{ $opt{headers} || [] };
    while (my ($name, $value) = splice @headers, 0, 2) {
        $req .= "$name: $value\r\n";
    }
    $req .= "Content-Length: " . length($opt{body}) . "\r\n"
        if defined $opt{body};
    $req .= "\r\n" . ($opt{body} // '');
    print $sock $req;
    my $data = WSLTest::read_until_eof($sock, $deadline);
    close $sock;
    my ($head, $body) = split /\r\n\r\n/, $data, 2;
    my ($code) = ($head // '') =~ m{^HTTP/\d\.\d (\d{3})};
    $body = dechunk($body) if ($head // '') =~ /^Transfer-Encoding:.*chunked/mi;
    return ($code || 0, $body // '', $head // '');
}

# A request in a process of its own, so that several can be in flight at
# once: my $k = $srv->spawn(GET => '/path', %opt) (request()'s options),
# then my ($code, $body) = WSLServer::reap($k) waits for it (bounded by
# the request's own timeout).
sub spawn {
    my ($self, $method, $path, %opt) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        binmode $w;
        my ($code, $body) = $self->request($method, $path, %opt);
        print $w "$code\n", $body;
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    return [$pid, $r];
}

sub reap {
    my ($k) = @_;
    my $fh = $k->[1];
    binmode $fh;
    local $/;
    my $out = <$fh> // '';
    close $fh;
    waitpid $k->[0], 0;
    my ($code, $body) = split /\n/, $out, 2;
    return ($code || 0, $body // '');
}

# A chunked body's data (as much as came).
sub dechunk {
    my ($rest) = @_;
    my $body = '';
    while (defined $rest && $rest =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $size = hex $1;
        last if $size == 0 || length($rest) < $size;
        $body .= substr($rest, 0, $size, '');
        $rest =~ s/^\r\n//;
    }
    return $body;
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
#
# It first lets the last connection's lingering close finish (0.2 s).
# Debian's httpd 2.4.71 event MPM has a race at an ungraceful stop: the
# child's main thread closes each worker's current socket
# (close_worker_sockets) while a worker may just have destroyed that
# connection's pool, and it then segfaults in apr_os_sock_get.  A stop
# sent right after a request hit it in 3 of 80 starts, with our module
# serving the request or Apache serving a static file alike, and in
# 0 of 200 with the pause.  The seconds returned do not count the pause.
sub stop {
    my ($self, $timeout) = @_;
    return 0 unless $self->{pid};
    Time::HiRes::sleep(0.2);
    my $t0 = Time::HiRes::time();
    kill 'TERM', $self->{pid};
    my $deadline = $t0 + ($timeout || 15);
    while (Time::HiRes::time() < $deadline) {
        unless ($self->processes) {
            delete $self->{pid};
            $self->keep_cores;
            return Time::HiRes::time() - $t0;
        }
        Time::HiRes::sleep(0.05);
    }
    kill 'KILL', $self->processes;
    delete $self->{pid};
    $self->keep_cores;
    return undef;
}

# A child that crashed dumps core into the ServerRoot, this server's
# temporary directory, which goes when the test ends: move any core file
# to the suite's t/logs (kept with WSL_KEEP=1) for gdb, and say where.
sub keep_cores {
    my $self = shift;
    opendir my $dh, $self->{dir} or return;
    my @cores = grep /^core(?:\.\d+)?$/, readdir $dh;
    closedir $dh;
    for my $core (@cores) {
        my $to = WSLTest::logs_dir() . "/core-wslserver-$$-" . time() . "-$core";
        next unless rename "$self->{dir}/$core", $to;
        print STDERR "# WSLServer: a child of $self->{conf} dumped core: $to\n";
        # Where it crashed, in the test's own output (CI shows no files):
        # the crashing thread's stack, if gdb is there to read it.
        my $httpd = httpd();
        next unless -x '/usr/bin/gdb';
        my @bt = `/usr/bin/gdb -batch -nx -ex 'bt 30' "$httpd" "$to" 2>/dev/null`;
        print STDERR map { "#   $_" } grep { /^#\d/ } @bt[0 .. ($#bt < 120 ? $#bt : 120)];
    }
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
