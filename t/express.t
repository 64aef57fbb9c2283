# express.t: scripts/mod_wsgi_lite-express, the one-command launcher, run
# as a subprocess on free ports as the test user (no User/Group lines):
# the demo that `make run` serves (plain scripts at several URLs), a Flask
# app (module:callable), a Django project with static files served by
# Apache, setup-server output through its apachectl wrapper (configtest,
# start, HTTPS, HTTP/2, stop), --reload-on-changes, signals, --mode
# daemon (the application in a WSGIDaemonProcess group: its processes,
# its options, --python-home with a real virtualenv, reloading), and the
# errors that must stop it before Apache starts.
#
# The launcher runs an event-MPM Apache of its own whatever WSL_MPM says,
# so this file runs in the event pass only.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Cwd ();
use File::Temp ();
use File::Copy ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use WSLTest qw(t_ok wait_until expected_mpm diag read_until_eof
               debian_python_or_skip);
use WSLServer ();

plan tests => 79 + 2 + 19 + 7 + 7 + 8, need need_module('mod_wsgi_lite.c'),
    { 'the launcher runs its own event-MPM Apache: tested in the event pass'
          => expected_mpm() eq 'event' };

my $TOP = Cwd::abs_path("$FindBin::Bin/..");
my $EXPRESS = "$TOP/scripts/mod_wsgi_lite-express";
my $APPS = "$FindBin::Bin/htdocs/express";
my $PYTHON = '/usr/bin/python3';
my $TMP = File::Temp->newdir('wsl-express-XXXXXX', TMPDIR => 1);
# The launcher starts the same httpd as the suite (under make asan, a
# wrapper that preloads the sanitizers), as it loads the same module.
$ENV{WSL_HTTPD} = Apache::Test::vars()->{httpd};
my %LIVE;    # pid => 1 for every launcher still running

# --- helpers ------------------------------------------------------------------

# Start a command in the background, stdout and stderr to $TMP/$name.out.
sub launch {
    my ($name, %opt) = @_;
    my $out = "$TMP/$name.out";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    unless ($pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        chdir($opt{cwd} // "$TMP") or POSIX::_exit(126);
        $ENV{$_} = $opt{env}{$_} for keys %{ $opt{env} || {} };
        exec @{ $opt{cmd} } or POSIX::_exit(127);
    }
    $LIVE{$pid} = 1;
    return { pid => $pid, out => $out, name => $name };
}

sub express { my ($name, @args) = @_;
              launch($name, cmd => [$PYTHON, $EXPRESS, @args]) }

sub output {
    my ($proc) = @_;
    open my $fh, '<', $proc->{out} or return '';
    local $/;
    my $text = <$fh>;
    return $text // '';
}

# The exit status once it has exited (undef if still running after
# $timeout seconds).
sub reap {
    my ($proc, $timeout) = @_;
    return $proc->{status} if defined $proc->{status};
    my $deadline = Time::HiRes::time() + ($timeout // 15);
    while (1) {
        my $r = waitpid($proc->{pid}, POSIX::WNOHANG());
        if ($r == $proc->{pid}) {
            delete $LIVE{$proc->{pid}};
            return $proc->{status} = $?;
        }
        return undef if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# Run to completion: (exit code, output).
sub run_express {
    my ($name, @args) = @_;
    my $proc = express($name, @args);
    my $status = reap($proc, 60);
    unless (defined $status) {
        kill 'KILL', $proc->{pid};
        $status = reap($proc, 5) // -1;
    }
    return ($status >> 8, output($proc));
}

sub can_connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 2);
    return $s ? 1 : 0;
}

# Wait until the server answers on $port, or its launcher has exited.
sub wait_up {
    my ($proc, $port) = @_;
    my $deadline = Time::HiRes::time() + 30;
    while (Time::HiRes::time() < $deadline) {
        return 1 if can_connect($port);
        return 0 if defined reap($proc, 0);
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

# One request on a fresh connection: (status, body, header block).
sub http {
    my ($port, $method, $path, $body, @headers) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10) or return (0, '', '');
    $body //= '';
    my $req = "$method $path HTTP/1.0\r\nHost: 127.0.0.1:$port\r\n";
    $req .= "$_\r\n" for @headers;
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    print $s "$req\r\n$body";
    my $data = read_until_eof($s, Time::HiRes::time() + 30);
    my ($head, $rest) = split /\r\n\r\n/, $data, 2;
    my ($code) = ($head // '') =~ m{^HTTP/\d\.\d (\d{3})};
    return ($code || 0, $rest // '', $head // '');
}

sub get_body { (http($_[0], 'GET', $_[1]))[1] }

sub read_file {
    open my $fh, '<', $_[0] or return '';
    local $/;
    return scalar <$fh>;
}

sub alive { kill 0, $_[0] }

# Children of a process (from /proc/*/stat).
sub children_of {
    my ($ppid) = @_;
    my @kids;
    opendir my $dh, '/proc' or return;
    for my $p (grep /^\d+$/, readdir $dh) {
        my $stat = read_file("/proc/$p/stat") or next;
        push @kids, $p if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid;
    }
    return @kids;
}

sub stop {
    my ($proc, $sig) = @_;
    kill $sig || 'TERM', $proc->{pid};
    my $status = reap($proc, 20);
    unless (defined $status) {
        kill 'KILL', $proc->{pid};
        reap($proc, 5);
    }
    return $status;
}

END {
    for my $pid (keys %LIVE) {
        kill 'TERM', $pid;
        for (1 .. 40) {
            last if waitpid($pid, POSIX::WNOHANG()) == $pid;
            Time::HiRes::sleep(0.05);
        }
        kill 'KILL', $pid;
    }
}

# --- --help: every option documented ------------------------------------------

{
    my ($rc, $out) = run_express('help', 'start-server', '--help');
    ok t_cmp($rc, 0, '--help exits 0');
    my @options = qw(--host --port --processes --threads --url-alias
        --python-path --application-group --reload-on-changes --access-log
        --log-to-terminal --log-level --limit-request-body --setup-only
        --server-root --https-port --ssl-certificate-file --ssl-key-file
        --with-http2 --user --group --mount --mount-point --callable-object
        --module-file --mode --embedded-mode --python-home --home
        --socket-prefix --maximum-requests --restart-interval
        --inactivity-timeout --request-timeout --startup-timeout
        --graceful-timeout --deadlock-timeout --queue-timeout
        --shutdown-timeout --connect-timeout --socket-timeout
        --daemon-backlog --memory-limit --cpu-time-limit);
    my @missing = grep { $out !~ /^\s+\Q$_\E\b.*\n?\s+\S/m } @options;
    ok t_cmp("@missing", '', '--help documents every option of the issue');
    ok t_cmp($out, qr/^\s+--mode \{embedded,daemon\}\n(?:\s+\S.*\n)*?.*\(default:\s+(?:embedded|daemon)\b/m,
             '--help: --mode says which mode is the default');
    ok t_cmp($out, qr/^\s+--response-socket-timeout SECONDS\n(?:\s+\S.*\n)*?.*not\s+acted\s+on\s+yet/m,
             '--help: a lifecycle option not built yet says so');
}

# --- make run's demo: plain scripts at several URLs ---------------------------

{
    my $port = WSLServer::free_port();
    my $demo = launch('demo', cmd => ['/bin/sh', "$TOP/scripts/run-demo.sh"],
                      env => { PORT => $port, TMPDIR => "$TMP" });
    ok t_ok(wait_up($demo, $port), 'run-demo.sh (make run) serves through '
            . 'the launcher') or diag(output($demo));
    ok t_cmp(get_body($port, '/hello'), 'Hello World', 'demo: /hello');
    ok t_cmp(get_body($port, '/class'), 'Hello World', 'demo: /class');
    ok t_cmp(get_body($port, '/callable'), 'Hello World', 'demo: /callable');
    ok t_cmp(get_body($port, '/html'), '<h1>Hello World</h1>', 'demo: /html');
    my ($code, $body, $head) = http($port, 'GET', '/x-server');
    ok t_cmp($head, qr/^X-Server: MyDemo_app\r?$/m, 'demo: /x-server header');
    $body = get_body($port, '/xxx?id=5');
    ok t_cmp($body, qr/^PATH_INFO = '\/xxx'$/m,
             'demo: every other URL is demo_app at /');
    ok t_cmp(get_body($port, '/demo-source/a'), qr/^PATH_INFO = '\/a'$/m,
             'demo: /demo-source');
    my $out = output($demo);
    ok t_cmp($out, qr{Server URL:\s+http://127\.0\.0\.1:$port/},
             'demo: the launcher prints the URL');
    ok t_ok(wait_until(sub { output($demo) =~ m{"GET /hello HTTP/1\.0" 200} },
                       10), 'demo: access log on the terminal (stdout)');
    # Ctrl-C: the launcher has become Apache, which stops on SIGINT.
    my $status = stop($demo, 'INT');
    ok t_cmp($status, 0, 'demo: SIGINT (Ctrl-C) stops it, exit status 0');
    ok t_ok(!can_connect($port), 'demo: the port is closed after Ctrl-C');
}

# --- Flask: module:callable, processes x threads -------------------------------
# Flask and Django are Debian's packages (python3-flask, python3-django),
# which only Debian's Python imports; the launcher's own test-import runs
# /usr/bin/python3 whatever the module embeds.

if (debian_python_or_skip(12, 'express.t: the Flask app (python3-flask)')) {
    my $port = WSLServer::free_port();
    my $root = "$TMP/flask-root";
    my $flask = launch('flask', cwd => "$APPS/flaskapp",
        cmd => [$PYTHON, $EXPRESS, 'start-server', '--host', '127.0.0.1',
                '--port', $port, '--server-root', $root, '--processes', 2,
                '--threads', 3, 'hello:app']);
    ok t_ok(wait_up($flask, $port), 'Flask app hello:app starts')
        or diag(output($flask));
    ok t_cmp(get_body($port, '/'), 'flask index via express',
             'Flask: index, through a module beside it (greeting.py)');
    ok t_cmp(get_body($port, '/hello/apache'), 'Hello, apache!',
             'Flask: a route with a variable');
    my ($code, $body) = http($port, 'POST', '/info', 'x' x 300,
                             'Content-Type: application/octet-stream');
    my $info = eval { JSON::PP::decode_json($body) } || {};
    ok t_cmp($info->{length}, 300, 'Flask: POST body read');
    ok t_cmp($info->{server}, qr/mod_wsgi_lite/, 'Flask: served by mod_wsgi_lite');
    my $conf = read_file("$root/httpd.conf");
    ok t_cmp($conf, qr/^ThreadsPerChild 3$/m, '--threads 3: ThreadsPerChild 3');
    ok t_cmp($conf, qr/^MaxRequestWorkers 6$/m,
             '--processes 2 --threads 3: MaxRequestWorkers 6');
    ok t_cmp($conf, qr/^LoadModule mpm_event_module /m, 'the event MPM');
    ok t_ok($conf !~ /^\s*(User|Group)\b/m,
            'not root: no User/Group lines');
    ok t_cmp(scalar(wait_until(sub { children_of($flask->{pid}) == 2 }, 15)
                    && children_of($flask->{pid})), 2,
             '--processes 2: two Apache children');
    ok t_cmp(stop($flask, 'TERM'), 0, 'Flask: SIGTERM stops it, exit 0');
    ok t_ok(!alive($flask->{pid}) && !can_connect($port),
            'Flask: nothing left listening');
}

# --- Django: project directory, static files by Apache -----------------------

if (debian_python_or_skip(11, 'express.t: the Django project (python3-django)')) {
    my $port = WSLServer::free_port();
    my $dj = express('django', 'start-server', '--host', '127.0.0.1',
                     '--port', $port, '--server-root', "$TMP/dj-root",
                     '--log-to-terminal', '--access-log', "$APPS/djsite");
    ok t_ok(wait_up($dj, $port), 'Django project directory starts')
        or diag(output($dj));
    ok t_cmp(get_body($port, '/'), 'django index via express, static at /static/',
             'Django: index view');
    ok t_cmp(get_body($port, '/hello/bob/'), 'Hello, bob! (/hello/x/)',
             'Django: path converter and reverse()');
    my ($code, $body, $head) = http($port, 'GET', '/static/css/site.css');
    ok t_cmp($code, 200, 'Django: STATIC_URL served');
    ok t_cmp($body, read_file("$APPS/djsite/static_root/css/site.css"),
             'Django: the file in STATIC_ROOT');
    ok t_cmp($head, qr/^ETag: /m,
             'Django: static file sent by Apache itself (ETag)');
    ok t_cmp($head, qr{^Content-Type: text/css}m, 'Django: static Content-Type');
    ($code) = http($port, 'GET', '/no/such/page/');
    ok t_cmp($code, 404, 'Django: unknown URL is Django\'s 404');
    ok t_cmp(output($dj), qr{Static files:\s+/static/ -> \Q$APPS\E/djsite/static_root},
             'Django: the launcher reports the STATIC_ROOT it found');
    ok t_ok(wait_until(sub { output($dj) =~ m{"GET /static/css/site\.css HTTP/1\.0" 200} }, 10),
            'Django: --access-log --log-to-terminal');
    ok t_cmp(stop($dj, 'TERM'), 0, 'Django: SIGTERM stops it');
}

# --- setup-server: apachectl configtest, start, HTTPS, HTTP/2, stop ------------

SKIP: {
    my $root = "$TMP/setup-root";
    my $port = WSLServer::free_port();
    my $https = WSLServer::free_port();
    my ($cert, $key) = ("$TMP/cert.pem", "$TMP/key.pem");
    system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $key "
           . "-out $cert -subj /CN=localhost -days 2 >/dev/null 2>&1");
    # Test.pm's skip() records one test and returns: skip each, then leave.
    unless (-s $cert) {
        skip('openssl could not make a certificate', 0) for 1 .. 15;
        last SKIP;
    }
    my ($rc, $out) = run_express('setup', 'setup-server', '--host', '127.0.0.1',
        '--port', $port, '--https-port', $https, '--ssl-certificate-file',
        $cert, '--ssl-key-file', $key, '--with-http2', '--processes', 3,
        '--threads', 7, '--limit-request-body', 100, '--server-root', $root,
        '--url-alias', '/files', "$APPS/djsite/static_root",
        "$TOP/examples/hello.wsgi");
    ok t_cmp($rc, 0, 'setup-server exits 0') or diag($out);
    ok t_ok(!can_connect($port), 'setup-server starts nothing');
    my $conf = read_file("$root/httpd.conf");
    ok t_cmp($conf, qr/^MaxRequestWorkers 21$/m, '3 x 7: MaxRequestWorkers 21');
    ok t_cmp($conf, qr/^LoadModule ssl_module .*\n(?s:.*)^\s+SSLEngine on$/m,
             'mod_ssl loaded, SSLEngine on');
    ok t_cmp($conf, qr/^LoadModule http2_module .*\n(?s:.*)^Protocols h2 h2c http\/1\.1$/m,
             '--with-http2: mod_http2 and Protocols');
    ok t_ok(-x "$root/apachectl", 'an executable apachectl wrapper');
    my $test = `"$root/apachectl" configtest 2>&1`;
    ok t_cmp($? >> 8, 0, 'apachectl configtest exits 0') or diag($test);
    ok t_cmp($test, qr/Syntax OK/, 'apachectl configtest: Syntax OK');

    my $start = `"$root/apachectl" start 2>&1`;
    ok t_ok(wait_until(sub { can_connect($port) }, 20),
            'apachectl start: serving') or diag($start);
    ok t_cmp(get_body($port, '/'), 'Hello World', 'setup-server: the script at /');
    ok t_cmp(get_body($port, '/files/css/site.css'),
             read_file("$APPS/djsite/static_root/css/site.css"),
             '--url-alias: a directory served by Apache');
    my ($code) = http($port, 'POST', '/', 'y' x 200);
    ok t_cmp($code, 413, '--limit-request-body 100: 200 bytes refused');
    SKIP: {
        # Test.pm's skip() records one test and returns: skip each, then leave.
        unless (-x '/usr/bin/curl') {
            skip('no curl', 0) for 1 .. 2;
            last SKIP;
        }
        my $tls = `/usr/bin/curl -sk https://127.0.0.1:$https/ 2>&1`;
        ok t_cmp($tls, 'Hello World', '--https-port: served over TLS');
        my $h2 = `/usr/bin/curl -s -o /dev/null -w '%{http_version}' --http2-prior-knowledge http://127.0.0.1:$port/ 2>&1`;
        ok t_cmp($h2, '2', '--with-http2: HTTP/2 (h2c prior knowledge)');
    }
    `"$root/apachectl" stop 2>&1`;
    ok t_ok(wait_until(sub { !can_connect($port) }, 20), 'apachectl stop');
}

# --- --reload-on-changes: an edit to an imported module is picked up ----------

{
    my $dir = "$TMP/reload";
    mkdir $dir;
    File::Copy::copy("$APPS/reload/$_", "$dir/$_") for qw(app.wsgi greeting.py);
    my $port = WSLServer::free_port();
    my $rl = express('reload', 'start-server', '--host', '127.0.0.1',
                     '--port', $port, '--server-root', "$TMP/reload-root",
                     '--reload-on-changes', '--reload-interval', '0.2',
                     "$dir/app.wsgi");
    ok t_ok(wait_up($rl, $port), '--reload-on-changes starts')
        or diag(output($rl));
    my $before = get_body($port, '/');
    ok t_cmp($before, qr/^first version pid=\d+$/, 'the first version');
    # Held until Apache has its signal handlers (pid file), then watched.
    wait_until(sub { -s "$TMP/reload-root/httpd.pid" }, 10);
    Time::HiRes::sleep(0.5);
    open my $fh, '>', "$dir/greeting.py" or die $!;
    print $fh "TEXT = 'second version'\n";
    close $fh;
    my $later = time + 5;    # a different mtime, whatever the clock grain
    utime $later, $later, "$dir/greeting.py";
    ok t_ok(wait_until(sub { get_body($port, '/') =~ /^second version/ }, 30),
            '--reload-on-changes: the edit to greeting.py is served');
    ok t_cmp(output($rl), qr/greeting\.py changed.*graceful restart/,
             'the launcher says what changed');
    ok t_ok(alive($rl->{pid}), 'the launcher stays, as Apache\'s parent');
    my @apache = children_of($rl->{pid});
    ok t_cmp(scalar(@apache), 1, 'one Apache parent under the launcher');
    # SIGHUP is passed on: Apache restarts and serves again.
    kill 'HUP', $rl->{pid};
    Time::HiRes::sleep(0.5);
    ok t_ok(wait_until(sub { get_body($port, '/') =~ /^second version/ }, 20),
            'SIGHUP passed on: restarted, still serving');
    ok t_cmp(stop($rl, 'TERM'), 0, 'SIGTERM to the launcher: exit 0');
    ok t_ok(wait_until(sub { !grep { alive($_) } @apache }, 10)
            && !can_connect($port), 'Apache stopped with it');
}

# --- --mode daemon: the application in a WSGIDaemonProcess group -------------
# The launcher runs as the test user, so the daemons do too; Apache's parent
# is the launcher's own pid (it execs Apache).

# What ps -o comm shows: a daemon process's display-name (15 bytes of
# "(wsgi:GROUP)"), apache2 for Apache's own children.
sub comm_of { my $c = read_file("/proc/$_[0]/comm"); chomp $c; $c }
sub daemons_of { grep { comm_of($_) =~ /^\(wsgi:/ } children_of($_[0]) }
sub workers_of { grep { comm_of($_) !~ /^\(wsgi:/ } children_of($_[0]) }
sub get_json_body {
    my ($port, $path) = @_;
    return eval { JSON::PP::decode_json(get_body($port, $path)) } || {};
}
# WSGIDaemonProcess's options, with the line continuations joined.
sub daemon_line {
    my ($conf) = @_;
    $conf =~ s/\\\n\s*/ /g;
    return $conf =~ /^(WSGIDaemonProcess .*)$/m ? $1 : '';
}

{
    my $port = WSLServer::free_port();
    my $root = "$TMP/daemon-root";
    my $group = "127.0.0.1:$port";
    my $dm = express('daemon', 'start-server', '--host', '127.0.0.1',
                     '--port', $port, '--server-root', $root,
                     '--mode', 'daemon', '--processes', 2, '--threads', 3,
                     '--maximum-requests', 100, '--response-socket-timeout', 30,
                     "$APPS/daemon/app.wsgi");
    ok t_ok(wait_up($dm, $port), '--mode daemon starts') or diag(output($dm));
    my $info = get_json_body($port, '/');
    ok t_cmp($info->{process_group}, $group,
             'daemon mode: mod_wsgi.process_group is the launcher\'s group');
    my @workers = workers_of($dm->{pid});
    ok t_ok($info->{pid} && $info->{pid} != $dm->{pid}
            && !(grep { $_ == $info->{pid} } @workers)
            && ($info->{ppid} // 0) == $dm->{pid}
            && comm_of($info->{pid}) =~ /^\(wsgi:127\.0\.0\.1/,
            'daemon mode: served by a daemon process of Apache\'s parent, '
            . 'not by an Apache child') or diag("app: pid $info->{pid}, "
            . "Apache parent $dm->{pid}, children @workers");
    ok t_cmp($info->{threads_per_process}, 3,
             '--threads 3: mod_wsgi.threads_per_process 3');
    ok t_cmp($info->{maximum_processes}, 2,
             '--processes 2: mod_wsgi.maximum_processes 2');
    ok t_ok($info->{multiprocess}, '--processes given: wsgi.multiprocess');
    ok t_cmp(scalar(wait_until(sub { daemons_of($dm->{pid}) == 2 }, 15)
                    && daemons_of($dm->{pid})), 2,
             '--processes 2: two daemon processes');
    my $conf = read_file("$root/httpd.conf");
    my $line = daemon_line($conf);
    ok t_cmp($line, qr/^WSGIDaemonProcess \Q$group\E (?=.* processes=2\b)(?=.* threads=3\b)(?=.* display-name=%\{GROUP\})/,
             'WSGIDaemonProcess with processes=2 threads=3 '
             . 'display-name=%{GROUP}');
    ok t_cmp($line, qr/ maximum-requests=100\b/,
             '--maximum-requests 100: passed on as maximum-requests=100');
    ok t_cmp($conf, qr/^WSGIProcessGroup \Q$group\E$/m, 'WSGIProcessGroup');
    ok t_cmp($conf, qr/^WSGIRestrictEmbedded On$/m,
             'no Python in Apache\'s children (WSGIRestrictEmbedded On)');
    ok t_cmp($conf, qr/^WSGISocketPrefix "\Q$root\E\/wsgi"$/m,
             'the sockets under the server root');
    ok t_cmp($conf, qr/^MaxRequestWorkers 20$/m,
             'Apache\'s children sized for 2 x 3 daemon threads: 20 '
             . '(mod_wsgi-express\'s rule)');
    ok t_ok(wait_until(sub { read_file("$root/error_log") =~
                /WSL00170: WSGIDaemonProcess \Q$group\E: accepted, not acted on yet: response-socket-timeout=30$/m }, 10),
            '--response-socket-timeout: "not acted on yet" in the error log, and '
            . 'only it (--maximum-requests is acted on) '
            . '(WSL00170)') or diag(read_file("$root/error_log"));
    ok t_cmp(output($dm), qr/^Daemon mode:\s+WSGIDaemonProcess \Q$group\E: 2 x 3 threads$/m,
             'the launcher says it runs in daemon mode');
    # processes x threads requests run at once, in both processes: six
    # that each hold their thread 1 s, sent together, all answered within
    # 1.8 s (one process alone would run three and queue three: 2 s).
    my $t0 = Time::HiRes::time();
    my @socks = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                            PeerPort => $port, Timeout => 10)
                    } 1 .. 6;
    print $_ "GET /?sleep=1 HTTP/1.0\r\nHost: 127.0.0.1:$port\r\n\r\n"
        for grep { $_ } @socks;
    my %pids;
    for my $sock (grep { $_ } @socks) {
        my $data = read_until_eof($sock, Time::HiRes::time() + 15);
        my ($json) = $data =~ /\r\n\r\n(.*)\z/s;
        my $pid = (eval { JSON::PP::decode_json($json // '') } || {})->{pid};
        $pids{$pid}++ if $pid;
    }
    my $took = Time::HiRes::time() - $t0;
    ok t_cmp(scalar(keys %pids), 2, '--processes 2 --threads 3: six '
             . 'requests at once are served by both daemon processes')
        or diag(sprintf "pids: %s; %.2f s", join(', ', map { "$_ x $pids{$_}" }
                                             sort keys %pids), $took);
    ok t_ok($took < 1.8, sprintf('--processes 2 --threads 3: six 1 s '
            . 'requests at once take under 1.8 s (%.2f s)', $took));
    my @daemons = daemons_of($dm->{pid});
    ok t_cmp(stop($dm, 'TERM'), 0, 'daemon mode: SIGTERM stops it, exit 0');
    ok t_ok(@daemons && wait_until(sub { !grep { alive($_) } @daemons }, 10),
            'daemon mode: no daemon process outlives Apache');
}

# --python-home: a real virtualenv, the daemons' python-home=; --home.
if (debian_python_or_skip(7, 'express.t: a virtualenv of /usr/bin/python3')) {
    my $venv = "$TMP/venv";
    system($PYTHON, '-m', 'venv', '--without-pip', $venv);
    my ($site) = glob("$venv/lib/python3*/site-packages");
    if ($site && open my $fh, '>', "$site/wsl_venv_marker.py") {
        print $fh "TEXT = 'from the venv'\n";
        close $fh;
    }
    my $home = "$TMP/daemon-home";
    mkdir $home;
    my $port = WSLServer::free_port();
    my $root = "$TMP/venv-root";
    my $vd = express('venv', 'start-server', '--host', '127.0.0.1',
                     '--port', $port, '--server-root', $root,
                     '--mode', 'daemon', '--python-home', $venv,
                     '--home', $home, "$APPS/daemon/venv.wsgi");
    ok t_ok(wait_up($vd, $port), '--python-home VENV starts: the test '
            . 'import ran the venv\'s python') or diag(output($vd));
    my $info = get_json_body($port, '/');
    ok t_cmp($info->{prefix}, $venv,
             '--python-home: the daemon\'s sys.prefix is the venv');
    ok t_cmp($info->{venv_marker}, 'from the venv',
             '--python-home: a module installed in the venv is imported');
    ok t_cmp($info->{cwd}, $home, '--home: the daemon\'s working directory');
    ok t_ok(!$info->{multiprocess},
            'no --processes: wsgi.multiprocess False, as mod_wsgi-express');
    ok t_cmp(daemon_line(read_file("$root/httpd.conf")),
             qr/ python-home="\Q$venv\E"/, 'python-home= of the group');
    ok t_cmp(stop($vd, 'TERM'), 0, '--python-home: SIGTERM stops it');
}

# --reload-on-changes in daemon mode: the daemons restart, Apache does not.
{
    my $dir = "$TMP/reload-daemon";
    mkdir $dir;
    File::Copy::copy("$APPS/reload/$_", "$dir/$_") for qw(app.wsgi greeting.py);
    my $port = WSLServer::free_port();
    my $root = "$TMP/reload-daemon-root";
    my $rl = express('reload-daemon', 'start-server', '--host', '127.0.0.1',
                     '--port', $port, '--server-root', $root,
                     '--mode', 'daemon', '--reload-on-changes',
                     '--reload-interval', '0.2', "$dir/app.wsgi");
    ok t_ok(wait_up($rl, $port), 'daemon mode --reload-on-changes starts')
        or diag(output($rl));
    my ($before) = get_body($port, '/') =~ /^first version pid=(\d+)$/;
    ok t_ok($before, 'daemon mode: the first version');
    wait_until(sub { -s "$root/httpd.pid" }, 10);
    my ($apache) = children_of($rl->{pid});
    my @workers = sort { $a <=> $b } workers_of($apache // 0);
    Time::HiRes::sleep(0.5);
    open my $fh, '>', "$dir/greeting.py" or die $!;
    print $fh "TEXT = 'second version'\n";
    close $fh;
    my $later = time + 5;    # a different mtime, whatever the clock grain
    utime $later, $later, "$dir/greeting.py";
    my $after;
    ok t_ok(wait_until(sub { ($after) = get_body($port, '/') =~
                                 /^second version pid=(\d+)$/ }, 30),
            'daemon mode --reload-on-changes: the edit is served');
    ok t_ok($after && $after != $before,
            'daemon mode: by a new daemon process');
    ok t_cmp(output($rl), qr/greeting\.py changed: restarting the daemon processes \($before\)/,
             'the launcher restarts the daemon processes, saying which');
    ok t_cmp(join(' ', sort { $a <=> $b } workers_of($apache // 0)),
             join(' ', @workers) || 'some',
             'daemon mode: Apache\'s parent and children are not restarted');
    ok t_cmp(stop($rl, 'TERM'), 0, 'daemon mode --reload-on-changes: '
             . 'SIGTERM stops it');
}

# setup-server --mode daemon: the configuration, checked by Apache.
{
    my $root = "$TMP/setup-daemon-root";
    my $port = WSLServer::free_port();
    my ($rc, $out) = run_express('setup-daemon', 'setup-server', '--host',
        '127.0.0.1', '--port', $port, '--server-root', $root, '--mode',
        'daemon', '--processes', 4, '--threads', 15, '--request-timeout', 60,
        '--socket-timeout', 30, '--daemon-backlog', 50,
        "$TOP/examples/hello.wsgi");
    ok t_cmp($rc, 0, 'setup-server --mode daemon exits 0') or diag($out);
    my $conf = read_file("$root/httpd.conf");
    my $line = daemon_line($conf);
    ok t_cmp($line, qr/^WSGIDaemonProcess 127\.0\.0\.1:$port (?=.* processes=4\b)(?=.* threads=15\b)(?=.* request-timeout=60\b)(?=.* socket-timeout=30\b)(?=.* listen-backlog=50\b)/,
             '--setup-only/setup-server: WSGIDaemonProcess with the options '
             . 'given');
    ok t_cmp($conf, qr/^MaxRequestWorkers 112$/m,
             '4 x 15 daemon threads: 112 Apache threads (7 x 16)');
    my $test = `"$root/apachectl" configtest 2>&1`;
    ok t_cmp($? >> 8, 0, 'daemon mode: apachectl configtest passes')
        or diag($test);
    ok t_ok(!can_connect($port), 'setup-server --mode daemon starts nothing');

    my @base = ('start-server', '--host', '127.0.0.1', '--port', $port,
                '--server-root', "$TMP/bad-daemon-root");
    ($rc, $out) = run_express('embedded-daemon-opt', @base,
                              '--maximum-requests', 5,
                              "$TOP/examples/hello.wsgi");
    ok t_cmp($rc, 1, 'a daemon option in embedded mode: exit status 1');
    ok t_cmp($out, qr/--maximum-requests: only for daemon mode \(--mode daemon\)/,
             'a daemon option in embedded mode: says so');
    ($rc, $out) = run_express('long-prefix', @base, '--mode', 'daemon',
                              '--socket-prefix', "$TMP/" . ('s' x 80),
                              "$TOP/examples/hello.wsgi");
    ok t_cmp($out, qr/socket paths would be too long .*--socket-prefix/,
             'a socket prefix too long for a UNIX socket: reported before '
             . 'Apache starts');
}

# --- errors before Apache starts ---------------------------------------------

{
    my $port = WSLServer::free_port();
    my @base = ('start-server', '--host', '127.0.0.1', '--port', $port,
                '--server-root', "$TMP/bad-root");
    my ($rc, $out) = run_express('missing', @base, "$APPS/bad/nosuch.wsgi");
    ok t_cmp($rc, 1, 'missing script: exit status 1');
    ok t_cmp($out, qr/error: \S*nosuch\.wsgi: no such file/,
             'missing script: says so');

    ($rc, $out) = run_express('importerr', @base, "$APPS/bad/import_error.wsgi");
    ok t_cmp($rc, 1, 'import error: exit status 1');
    ok t_cmp($out, qr/cannot be loaded \(test import/, 'import error: says so');
    ok t_cmp($out, qr/^Traceback .*\n(?s:.*)import_error\.wsgi", line 2/m,
             'import error: the traceback, from the script\'s line');
    ok t_cmp($out, qr/ModuleNotFoundError: No module named 'wsl_express_no_such_module'/,
             'import error: the exception');
    ok t_ok(!-e "$TMP/bad-root", 'import error: nothing written');

    ($rc, $out) = run_express('syntax', @base, "$APPS/bad/syntax_error.wsgi");
    ok t_cmp($rc, 1, 'syntax error: exit status 1');
    ok t_cmp($out, qr/SyntaxError/, 'syntax error: reported');

    ($rc, $out) = run_express('nocallable', @base, "$APPS/bad/no_callable.wsgi");
    ok t_cmp($rc, 1, 'no callable: exit status 1');
    ok t_cmp($out, qr/does not define 'application'/, 'no callable: reported');

    ($rc, $out) = run_express('badmodule', @base, 'wsl_no_such_pkg.wsgi:application');
    ok t_cmp($out, qr/No module named 'wsl_no_such_pkg'/,
             'module:callable that does not import: reported');

    ($rc, $out) = run_express('notdjango', @base, "$APPS/flaskapp");
    ok t_cmp($out, qr/not a Django project \(no manage\.py/,
             'a directory without manage.py: reported');

    ($rc, $out) = run_express('nomodule', @base, '--module-file',
                              "$TMP/none/mod_wsgi_lite.so",
                              "$TOP/examples/hello.wsgi");
    ok t_cmp($rc, 1, 'missing module file: exit status 1');
    ok t_cmp($out, qr/mod_wsgi_lite\.so not found/, 'missing module file: reported');

    my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                     LocalPort => $port, Listen => 5,
                                     ReuseAddr => 1) or die "listen: $!";
    ($rc, $out) = run_express('busy', @base, "$TOP/examples/hello.wsgi");
    ok t_cmp($rc, 1, 'port in use: exit status 1');
    ok t_cmp($out, qr/port 127\.0\.0\.1:$port is in use/, 'port in use: reported');
    ok t_ok(!-e "$TMP/bad-root/httpd.pid", 'port in use: Apache not started');
    close $busy;
}
