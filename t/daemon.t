# daemon.t: daemon mode (WSGIDaemonProcess; process-group= on
# WSGIScriptAlias and WSGIImportScript; a dispatch script's
# process_group()) end to end, on servers of the test's own
# (t/lib/WSLServer.pm), so that daemons may be killed, restarted and
# counted without touching the suite's server.  Everything runs as the
# suite's user, so what needs root is the root part's (t/run.sh):
# user= and group=, a setuid made to fail, and a peer of another uid
# refused (WSL00188): a non-root test cannot connect as anyone else.
#
# Server A: groups dg (processes=1 threads=4 display-name=%{GROUP} home=
# python-path= lang= locale=), dg2 (processes=2 threads=1 display-name=),
# dg3 (threads=1, no processes=), dv (python-home= a venv made here), dk
# (deaths), ds (the SIGINT idiom), dr (script reloading), dpar
# (processes=2 threads=1), and embedded aliases of the same app:
#   - a request runs in the daemon, not in the Apache child that took it
#     (that child's pid from the access log's %P); the group's name in
#     the environ and in the mod_wsgi module; wsgi.multithread and
#     multiprocess, mod_wsgi.threads_per_process and maximum_processes
#     from the group;
#   - the environ equals the embedded one key by key (same app, two
#     aliases), but for the documented keys and the request's own;
#   - python-path=, python-home=, home=, display-name= (ps), lang=,
#     locale=; WSGIImportScript process-group= runs in that group only;
#   - the sockets: a directory (0700) and files (0600) of the Apache user
#     only; a local peer that sends no request is refused (WSL00194) and
#     the daemon serves on;
#   - streaming: an 8 MiB POST echoed as it is read (SHA-256), the answer
#     begun before the upload ends; 100-continue only when the app reads;
#     chunked bodies (WSGIChunkedRequest), LimitRequestBody (413), HEAD, a
#     client that goes away (close() runs once), WSGIErrorOverride,
#     WSGIPassAuthorization, REMOTE_USER from Basic auth, trusted proxy
#     headers; wsgi.file_wrapper of 20 MiB (sent by the child: the daemon
#     reads next to none of it);
#   - responses cut short: an exception after the first chunk, a daemon
#     killed after its head, each seen truncated (no last chunk); one
#     killed before its head, a 502, and not run again; the next request
#     served by a live process, requests running meanwhile in another
#     group and embedded unharmed, the group's other process alive;
#   - dispatch to two groups; a group that does not exist (WSL00051);
#   - processes=2 threads=1 runs two requests at once in two processes;
#   - os.kill(os.getpid(), SIGINT) restarts the process cleanly (WSL00181
#     "restarted"), no request fails; a changed script restarts the
#     process, and the request that saw it runs the new code; a daemon
#     killed with SIGKILL is replaced (WSL00181 names the signal); a
#     graceful restart replaces every daemon; a stop leaves none.
# Server B: a daemon that dies at start-up (its import script exits) is
#   restarted after delays that double, each waited, not in a fork storm,
#   and serves once it can.
# Server C: WSGIRestrictEmbedded On: daemon requests served, embedded ones
#   refused (WSL00161), no Python in Apache's children (a .pth on
#   WSGIPythonPath marks every process that starts Python; /proc/PID/maps
#   cannot tell, libpython is linked to the module).
# Server D: the parent killed with SIGKILL: its daemons exit within ~2 s
#   (PR_SET_PDEATHSIG).
# Server H: HTTP/2 (h2c, mod_http2, curl) to a daemon-mode app.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use Digest::SHA qw(sha1 sha256_hex);
use File::Copy ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Socket ();
use Time::HiRes ();
use WSLTest qw(t_ok wait_until parse_response expected_mpm diag logs_dir);
use WSLServer ();

my $h2_so = '/usr/lib/apache2/modules/mod_http2.so';
my $curl_features = `curl -V 2>/dev/null` // '';
my $have_h2 = -f $h2_so && $curl_features =~ /^Features:.*\bHTTP2\b/m;

plan tests => 153, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/daemon/app.wsgi";
my $python = $ENV{WSL_PYTHON} || '/usr/bin/python3';
my $json = JSON::PP->new->canonical;
my $mpm = expected_mpm();

# --- fixtures --------------------------------------------------------------
my $fix_tmp = File::Temp->newdir('wsl-dtest-XXXXXX', TMPDIR => 1);
my $fix = "$fix_tmp";
chmod 0755, $fix;

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

mkdir "$fix/$_" or die "$fix/$_: $!" for qw(path home imp b c);
write_file("$fix/path/wsl_dtest_path_only.py", "WHERE = 'python-path'\n");
File::Copy::copy("$docroot/daemon/import_marker.py", "$fix/imp/import_marker.py")
    or die "import_marker.py: $!";
File::Copy::copy("$docroot/daemon/import_exit.py", "$fix/b/import_exit.py")
    or die "import_exit.py: $!";
# A real virtualenv (without pip, a venv all the same), with a module only
# its site-packages has.
my $venv = "$fix/venv";
my $venv_out = `"$python" -m venv --system-site-packages --without-pip "$venv" 2>&1`;
my ($venv_site) = glob("$venv/lib/python3*/site-packages");
write_file("$venv_site/wsl_dtest_venv_only.py", "WHERE = 'venv'\n") if $venv_site;
ok t_ok(-x "$venv/bin/python" && $venv_site, '(setup) a venv made with python3 -m venv --system-site-packages')
    or diag($venv_out);
# 20 MiB for wsgi.file_wrapper.
my $blob_size = 20 * 1024 * 1024;
{
    open my $in, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
    my $got = read($in, my $blob, $blob_size);
    close $in;
    die "short read of /dev/urandom" unless $got == $blob_size;
    write_file("$fix/blob.bin", $blob);
}
my $blob_sha = Digest::SHA->new(256)->addfile("$fix/blob.bin")->hexdigest;
# Basic auth: Apache reads {SHA} entries of its own.
write_file("$fix/htpasswd",
           'alice:{SHA}' . MIME::Base64::encode_base64(sha1('wonderland'), '') . "\n");
# The script that WSGIScriptReloading watches.
sub write_reload_script {
    my ($version, $mtime) = @_;
    write_file("$fix/reload.wsgi", <<"PY");
import os
VERSION = '$version'


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%s pid=%d' % (VERSION, os.getpid())).encode()]
PY
    utime $mtime, $mtime, "$fix/reload.wsgi" if $mtime;
}
write_reload_script('v1', time - 60);

# --- helpers ---------------------------------------------------------------
sub decode { my $j = eval { $json->decode($_[0] // '') }; return ref $j eq 'HASH' ? $j : {} }

# GET on a fresh connection: (status, decoded JSON or {}, body, head).
sub jget {
    my ($srv, $path, $timeout) = @_;
    my ($code, $body, $head) = $srv ? $srv->get($path, $timeout // 30) : (0, '', '');
    return ($code, decode($body), $body, $head);
}

sub ps_field {
    my ($field, $pid) = @_;
    my $v = `ps -o $field= -p $pid 2>/dev/null` // '';
    $v =~ s/\s+$//;
    return $v;
}

# Alive, and not a zombie waiting for its parent.
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    my $stat = read_file("/proc/$pid/stat") // return 0;
    return $stat !~ /^\d+ \(.*\) [ZX] /s;
}

sub log_lines {
    my ($srv, $re) = @_;
    return grep /$re/, split /\n/, ($srv ? $srv->log_text : '');
}

# The daemon processes a server's log says started serving, by group.
sub daemon_pids {
    my ($srv, $group) = @_;
    my %pids;
    for (log_lines($srv, qr/WSL00189: daemon process \d+ of WSGIDaemonProcess \Q$group\E \(\d+ of \d+\) serving/)) {
        $pids{$1} = 1 if /WSL00189: daemon process (\d+) /;
    }
    return sort { $a <=> $b } keys %pids;
}

# The Apache child that took a request: its pid from the access log (%P).
sub child_pid_for {
    my ($srv, $uri) = @_;
    return wait_until(sub {
        for (split /\n/, read_file($srv->dir . '/access_log') // '') {
            return $1 if /^(\d+) \Q$uri\E$/;
        }
        return undef;
    }, 5);
}

# Raw bytes to the server on a fresh connection; everything until the
# server closes it, $timeout passes or $done->(data so far) says so:
# (data, closed by the server?).
sub exchange {
    my ($srv, $bytes, $timeout, $done) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $srv->port, Timeout => 10)
        or return ('', 0);
    binmode $sock;
    print $sock $bytes;
    my $sel = IO::Select->new($sock);
    my $deadline = Time::HiRes::time() + ($timeout || 15);
    my ($data, $closed) = ('', 0);
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        if (!$n) { $closed = 1; last }
        $data .= $buf;
        last if $done && $done->($data);
    }
    close $sock;
    return ($data, $closed);
}

# A keep-alive GET (no "Connection: close"): Apache then frames a body of
# unknown length with chunks, so a response cut short shows.
# Reading stops when the response is complete, or the server closes the
# connection, or after $timeout.
sub keepalive_get {
    my ($srv, $path, $timeout) = @_;
    my ($data, $closed) = exchange($srv, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                   $timeout, sub { parse_response($_[0])->{complete} });
    my $r = parse_response($data);
    $r->{closed} = $closed;
    return $r;
}

# A request whose body is sent while the response is read, as a client
# that streams both ways would: (response data, upload bytes sent when the
# first response body byte came, or undef).
sub duplex_post {
    my ($srv, $path, $body, $timeout) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $srv->port, Timeout => 10)
        or return ('', undef);
    binmode $sock;
    $sock->blocking(0);
    my $head = "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Content-Type: application/octet-stream\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n";
    my $out = $head . $body;
    my ($off, $in, $first_at) = (0, '', undef);
    my $deadline = Time::HiRes::time() + ($timeout || 60);
    my $rsel = IO::Select->new($sock);
    my $wsel = IO::Select->new($sock);
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        my ($r, $w) = IO::Select->select($rsel, $off < length $out ? $wsel : undef,
                                         undef, $left);
        if ($w && @$w) {
            my $n = syswrite($sock, $out, 256 * 1024, $off);
            $off += $n if $n;
        }
        if ($r && @$r) {
            my $n = sysread($sock, my $buf, 256 * 1024);
            last if defined $n && $n == 0;
            next unless $n;
            $in .= $buf;
            my $end = index($in, "\r\n\r\n");
            $first_at //= $off - length($head)
                if $end >= 0 && length($in) > $end + 4;
        }
    }
    close $sock;
    return ($in, $first_at);
}

# Expect: 100-continue: the headers, then wait up to $wait s for a 100
# (sending the body once it comes) or a final answer: { interim (the 100
# came), t100 (seconds after the headers), final (parse_response) }.
sub expect_post {
    my ($srv, $path, $body, $wait) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $srv->port, Timeout => 10)
        or return { final => {} };
    binmode $sock;
    print $sock "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Expect: 100-continue\r\nContent-Length: " . length($body) . "\r\n\r\n";
    my $t0 = Time::HiRes::time();
    my $sel = IO::Select->new($sock);
    my %res;
    my $data = '';
    my $deadline = $t0 + $wait;
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $data .= $buf;
        last if $data =~ /\r\n\r\n/;
    }
    if ($data =~ s{^HTTP/1\.1 100 [^\r\n]*\r\n\r\n}{}) {
        $res{interim} = 1;
        $res{t100} = Time::HiRes::time() - $t0;
        print $sock $body;
    }
    $data .= WSLTest::read_until_eof($sock, Time::HiRes::time() + 30);
    close $sock;
    $res{final} = parse_response($data);
    return \%res;
}

# A chunked request body, in pieces of the given sizes.
sub chunked_post {
    my ($srv, $path, $body, @sizes) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n";
    my $off = 0;
    while ($off < length $body) {
        my $n = shift(@sizes) // 70000;
        $n = length($body) - $off if $off + $n > length $body;
        $req .= sprintf("%x\r\n", $n) . substr($body, $off, $n) . "\r\n";
        $off += $n;
    }
    $req .= "0\r\n\r\n";
    my ($data) = exchange($srv, $req, 30);
    return parse_response($data);
}

# A server's error log, kept in t/logs (WSL_KEEP=1 keeps that) when its
# temporary directory goes.
sub keep_log {
    my ($srv, $name) = @_;
    return unless $srv;
    write_file(logs_dir() . "/daemon_t_${name}_error_log", $srv->log_text);
}

sub start_server {
    my ($what, $conf) = @_;
    # Its own daemon groups, and embedded requests beside them: never the
    # daemon group t/run.sh's daemon mode would add.
    my $srv = eval { WSLServer->start(conf => $conf, embedded => 1) };
    ok t_ok($srv, "(setup) server $what starts") or diag($@);
    return $srv;
}

# --- server A --------------------------------------------------------------
my $A = start_server('A (daemon groups)', <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
# Twelve requests at once (WSLServer's three or eight are too few for
# the kept-connections test below).
<IfModule mpm_prefork_module>
    StartServers 12
    MinSpareServers 12
    MaxSpareServers 12
    MaxRequestWorkers 12
</IfModule>
<IfModule mpm_event_module>
    ServerLimit 3
    StartServers 3
    MaxRequestWorkers 12
</IfModule>
CustomLog "\@TMPDIR\@/access_log" "%P %U%q"
SetEnv WSL_FIXTURES $fix
<IfModule !mod_auth_basic.c>
    LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
</IfModule>
<IfModule !mod_authn_file.c>
    LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
</IfModule>
<IfModule !mod_authn_core.c>
    LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
</IfModule>
<IfModule !mod_authz_user.c>
    LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
</IfModule>
WSGIDaemonProcess dg processes=1 threads=4 display-name=%{GROUP} home=$fix/home python-path=$fix/path lang=en_US.UTF-8 locale=C.UTF-8
WSGIDaemonProcess dg2 processes=2 threads=1 display-name=wsl-dtest-two
WSGIDaemonProcess dg3 threads=1
WSGIDaemonProcess dv threads=2 python-home=$venv
WSGIDaemonProcess dk processes=2 threads=4
WSGIDaemonProcess ds processes=1 threads=2
WSGIDaemonProcess dr processes=1 threads=2
WSGIDaemonProcess dpar processes=2 threads=1
WSGIDaemonProcess dbal processes=2 threads=3
WSGIImportScript $fix/imp/import_marker.py process-group=dg application-group=%{GLOBAL}

WSGIScriptAlias /emb $app
WSGIScriptAlias /dm $app process-group=dg
WSGIScriptAlias /two $app process-group=dg2
WSGIScriptAlias /three $app process-group=dg3
WSGIScriptAlias /venv $app process-group=dv
WSGIScriptAlias /crash $app process-group=dk
WSGIScriptAlias /sig $app process-group=ds
WSGIScriptAlias /reload $fix/reload.wsgi process-group=dr
WSGIScriptAlias /par $app process-group=dpar
WSGIScriptAlias /bal $app process-group=dbal
WSGIScriptAlias /none $app process-group=wsl-no-such-group
WSGIScriptAlias /envemb $app application-group=wsl-env
WSGIScriptAlias /envdmn $app application-group=wsl-env process-group=dg
WSGIScriptAlias /disp $app
<Location /disp>
    WSGIDispatchScript $docroot/daemon/dispatch.py
</Location>
WSGIScriptAlias /chunked $app process-group=dg
<Location /chunked>
    WSGIChunkedRequest On
</Location>
WSGIScriptAlias /limit $app process-group=dg
<Location /limit>
    WSGIChunkedRequest On
    LimitRequestBody 10000
</Location>
WSGIScriptAlias /eo $app process-group=dg
<Location /eo>
    WSGIErrorOverride On
    ErrorDocument 404 "wsl-dtest custom 404"
</Location>
WSGIScriptAlias /pa $app process-group=dg
<Location /pa>
    WSGIPassAuthorization On
</Location>
WSGIScriptAlias /basic $app process-group=dg
<Location /basic>
    AuthType Basic
    AuthName wsl-dtest
    AuthBasicProvider file
    AuthUserFile $fix/htpasswd
    Require valid-user
</Location>
WSGIScriptAlias /proxy $app process-group=dg
<Location /proxy>
    WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto
    WSGITrustedProxies 127.0.0.1
</Location>
CONF

# --- a request runs in its daemon ---------------------------------------------
my ($code, $j) = jget($A, '/dm?case=info&tag=basic');
my $dg_pid = $j->{pid} // 0;
my $took_it = $A ? child_pid_for($A, '/dm?case=info&tag=basic') : undef;
ok t_cmp($code, 200, 'a process-group= request is served');
ok t_ok($dg_pid && $took_it && $dg_pid != $took_it && $dg_pid != ($A ? $A->pid : 0),
        "it runs in another process than the Apache child that took it (daemon $dg_pid, child "
        . ($took_it // '?') . ')');
# The process logs WSL00189 just after its threads start: a request can
# be served first (seen once in CI, 3.13 under prefork).
ok t_cmp(scalar(wait_until(sub { join ' ', daemon_pids($A, 'dg') }, 10)), $dg_pid,
         'that process is the daemon dg the log says started (WSL00189)');
ok t_cmp($j->{ppid}, $A ? $A->pid : -1, 'the daemon is a child of the Apache parent');
ok t_cmp(join(' ', map { $_ // 'undef' } @$j{qw(environ_process_group environ_lite_process_group module_process_group)}),
         'dg dg dg', "environ mod_wsgi.process_group, mod_wsgi_lite.process_group and mod_wsgi.process_group are the group's name");
ok t_cmp(join(' ', map { $j->{$_} ? 'true' : 'false' } qw(multithread multiprocess)),
         'true true', 'processes=1 threads=4: wsgi.multithread and wsgi.multiprocess (processes= given) are True');
ok t_cmp("$j->{threads_per_process}/$j->{maximum_processes}", '4/1',
         'mod_wsgi.threads_per_process and maximum_processes are the group\'s');
my ($c2, $j2) = jget($A, '/two?case=info');
ok t_cmp("$c2 $j2->{environ_process_group} " . ($j2->{multithread} ? 1 : 0) . ($j2->{multiprocess} ? 1 : 0)
         . " $j2->{threads_per_process}/$j2->{maximum_processes}", '200 dg2 01 1/2',
         'processes=2 threads=1: multithread False, multiprocess True, 1 thread, 2 processes');
my ($c3, $j3) = jget($A, '/three?case=info');
ok t_cmp("$c3 $j3->{environ_process_group} " . ($j3->{multithread} ? 1 : 0) . ($j3->{multiprocess} ? 1 : 0)
         . " $j3->{threads_per_process}/$j3->{maximum_processes}", '200 dg3 00 1/1',
         'threads=1 and no processes=: neither multithread nor multiprocess (as mod_wsgi)');
my ($ce, $je) = jget($A, '/emb?case=info');
ok t_cmp("$ce '$je->{environ_process_group}' '$je->{module_process_group}'", "200 '' ''",
         'an embedded request of the same server: process group empty');

# --- the options --------------------------------------------------------------
ok t_cmp($j->{path_module} // 'not importable', "$fix/path/wsl_dtest_path_only.py",
         'python-path=: a module importable only from there');
ok t_cmp($je->{path_module} // 'not importable', 'not importable', '... which embedded mode cannot import');
ok t_cmp($j->{cwd}, "$fix/home", 'home=: the working directory');
ok t_cmp("$j->{lang} " . ($j->{lc_all} // 'unset') . " $j->{ctype}", 'en_US.UTF-8 C.UTF-8 C.UTF-8',
         'lang= sets LANG, locale= LC_ALL and the C library\'s locale');
ok t_cmp($je->{lc_all} // 'unset', 'unset', '... not in embedded mode');
ok t_cmp(ps_field('args', $dg_pid), '(wsgi:dg)', "display-name=%{GROUP}: ps shows (wsgi:dg)");
ok t_cmp(ps_field('comm', $dg_pid), '(wsgi:dg)', '... as its command name too');
ok t_cmp(ps_field('args', $j2->{pid} // 0), 'wsl-dtest-two', 'display-name=NAME: ps shows NAME');
my ($cv, $jv) = jget($A, '/venv?case=info');
ok t_cmp("$cv $jv->{prefix}", "200 $venv", 'python-home= a venv: sys.prefix is the venv');
ok t_cmp($jv->{venv_module} // 'not importable', "$venv_site/wsl_dtest_venv_only.py",
         "... its site-packages are on sys.path");
ok t_cmp($j->{venv_module} // 'not importable', 'not importable', '... and no other group\'s');
my @imported = map { /imported\.(\d+)$/ ? $1 : () } glob("$fix/imp/imported.*");
ok t_cmp(join(' ', @imported), $dg_pid, 'WSGIImportScript process-group=dg ran in dg\'s process only');

# --- the environ is the embedded one -----------------------------------------------
{
    my $q = 'case=env&x=%C3%A9t%C3%A9&y=1';
    my @h = (headers => ['X-Custom' => 'wsl value', 'Cookie' => 'a=b; c=d',
                         'Accept-Language' => 'fr', 'Content-Type' => 'text/plain'],
             body => 'some=body', http10 => 0);
    my ($ec, $eb) = $A ? $A->request(POST => "/envemb/p/a%20th?$q", @h) : (0, '');
    my ($ec2, $eb2) = $A ? $A->request(POST => "/envemb/p/a%20th?$q", @h) : (0, '');
    my ($dc, $db) = $A ? $A->request(POST => "/envdmn/p/a%20th?$q", @h) : (0, '');
    my ($emb, $emb2, $dmn) = map { decode($_) } $eb, $eb2, $db;
    # mod_wsgi's daemon-mode keys, which the daemon's environ adds.
    my @daemon_only = qw(mod_wsgi.queue_start mod_wsgi.daemon_start
        mod_wsgi.daemon_connects mod_wsgi.daemon_restarts);
    ok t_cmp("$ec $dc " . scalar(keys %$emb) . ' ' . scalar(keys %$dmn), "200 200 "
             . scalar(keys %$emb) . ' ' . (scalar(keys %$emb) + @daemon_only),
             '(setup) both environs came');
    # What differs between two embedded requests is the request's own
    # (its port, id, times) or the serving process's and thread's (their
    # request counts, the thread's number); what differs by mode is
    # documented.  Those keys are there in both, with values of one type.
    my %per_request = map { $_ => 1 } grep {
        ($json->encode([$emb->{$_}]) ne $json->encode([$emb2->{$_}]))
    } keys %$emb;
    my %per_process = map { $_ => 1 } qw(mod_wsgi.thread_id mod_wsgi.thread_requests
        mod_wsgi.total_requests);
    my %documented = map { $_ => 1 } qw(mod_wsgi.process_group mod_wsgi_lite.process_group
        wsgi.multithread wsgi.multiprocess);
    my @bad;
    my %only_daemon = map { $_ => 1 } @daemon_only;
    for my $k (sort keys %{ { %$emb, %$dmn } }) {
        if ($only_daemon{$k}) {
            push @bad, "$k missing in daemon" unless exists $dmn->{$k};
            push @bad, "$k in embedded" if exists $emb->{$k};
            next;
        }
        if (!exists $emb->{$k} || !exists $dmn->{$k}) {
            push @bad, "$k only in " . (exists $emb->{$k} ? 'embedded' : 'daemon');
            next;
        }
        next if $documented{$k};
        if ($per_request{$k} || $per_process{$k}) {
            my $num = sub { ($_[0] // '') =~ /^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i ? 1 : 0 };
            push @bad, "$k: embedded " . ($emb->{$k} // 'None') . ', daemon ' . ($dmn->{$k} // 'None')
                if !defined $emb->{$k} || !defined $dmn->{$k} || $num->($emb->{$k}) != $num->($dmn->{$k});
            next;
        }
        # The alias is part of the URL: /envemb there is /envdmn here.
        my $want = $json->encode([$emb->{$k}]);
        $want =~ s{/envemb}{/envdmn}g;
        my $got = $json->encode([$dmn->{$k}]);
        push @bad, "$k: embedded $want, daemon $got" if $got ne $want;
    }
    ok t_cmp(join('; ', @bad), '', 'the daemon\'s environ has the same keys and, but for the documented ones, the same values');
    ok t_cmp(join(' ', grep { !$per_process{$_} } sort keys %per_request),
             'REMOTE_PORT mod_wsgi.request_id mod_wsgi.request_start mod_wsgi.script_start mod_wsgi_lite.request_start',
             'what differs from one request to the next is only the connection\'s port, the request id and times');
    ok t_cmp($dmn->{'mod_wsgi.process_group'} // '', 'dg', '(the daemon environ is the daemon\'s)');
}

# --- the sockets ---------------------------------------------------------------------
{
    my @dirs = $A ? glob($A->dir . '/wsgi.*') : ();
    my @socks = map { glob("$_/*.sock") } @dirs;
    ok t_cmp(scalar(@dirs) . ' ' . scalar(@socks), '1 9', 'one socket directory, one socket per group');
    my @dst = @dirs ? stat $dirs[0] : ();
    ok t_cmp(@dst ? sprintf('%04o %d', $dst[2] & 07777, $dst[4]) : 'none', sprintf('0700 %d', $>),
             'the directory is mode 0700, owned by the Apache user');
    my @bad = grep {
        my @st = stat $_;
        !(-S $_ && ($st[2] & 07777) == 0600 && $st[4] == $>)
    } @socks;
    ok t_cmp(join(' ', @bad), '', 'every socket is mode 0600, owned by the Apache user');
    # A local process of the Apache user's may connect (it could be an
    # Apache child); anything but a request frame is refused.  A peer of
    # another uid cannot be made here, as a non-root user: the root part
    # checks that refusal (WSL00188).
    my ($dg_sock) = grep m{/\d+\.0\.sock$}, @socks;
    # 1 if the daemon closes a connection that sent these bytes.
    my $closed_on = sub {
        my $peer = $dg_sock ? IO::Socket::UNIX->new(Type => Socket::SOCK_STREAM(), Peer => $dg_sock) : undef;
        return 0 unless $peer;
        syswrite $peer, $_[0];
        my $closed = IO::Select->new($peer)->can_read(5) && !sysread($peer, my $buf, 100) ? 1 : 0;
        close $peer;
        return $closed;
    };
    # Frame headers: length, type, flags, wire version (wire.h).  A
    # request frame of another layout (an Apache child of an older
    # build, after a graceful restart that upgraded the module): refused
    # by name, not misread; the log says this build's version.
    my $old_closed = $closed_on->(pack('LCCS', 16, 1, 0, 0) . 'x' x 16);
    my ($old_line) = $old_closed ? wait_until(sub { (log_lines($A, qr/WSL00194: WSGIDaemonProcess dg: a frame of wire version 0, where this build's is \d+ \(a child of another build/))[0] }, 5) : ();
    my ($wire) = ($old_line // '') =~ /this build's is (\d+)/;
    ok t_ok($old_closed && $wire && $wire > 0,
            'a request frame of wire version 0 (an older build\'s): the connection closed, and logged by name (WSL00194), this build\'s version ' . ($wire // '?'));
    ok t_ok($closed_on->(pack('LCCS', 16, 99, 0, $wire // 0) . 'x' x 16),
            'a connection that sends a frame of this version that is no request is closed by the daemon');
    ok t_ok(scalar(wait_until(sub { log_lines($A, qr/WSL00194: WSGIDaemonProcess dg: a frame of type 99/) }, 5)),
            '... and logged (WSL00194)');
    my ($cc, $cj) = jget($A, '/dm?case=info');
    ok t_cmp("$cc $cj->{pid}", "200 $dg_pid", 'the daemon serves on, the same process');
}

# --- streaming, both ways ------------------------------------------------------------
{
    my $up = '';
    {
        open my $in, '<:raw', "$fix/blob.bin" or die $!;
        read($in, $up, 8 * 1024 * 1024);
        close $in;
    }
    my $io = sub {
        my $t = read_file("/proc/$dg_pid/io") // '';
        return $t =~ /^rchar: (\d+)/m ? [$1, $t =~ /^wchar: (\d+)/m] : undef;
    };
    my $io_before = $io->();
    my ($data, $first_at) = $A ? duplex_post($A, '/dm?case=echo', $up, 90) : ('', undef);
    my $io_after = $io->();
    my $r = parse_response($data);
    ok t_cmp($r->{status} // 0, 200, 'an 8 MiB POST echoed as it is read: 200');
    ok t_cmp(length($r->{body}) . ' ' . sha256_hex($r->{body}), length($up) . ' ' . sha256_hex($up),
             '... every byte back, in order (SHA-256)');
    if ($io_before && $io_after) {
        my ($read, $wrote) = map { $io_after->[$_] - $io_before->[$_] } 0, 1;
        ok t_ok($read < 1024 * 1024 && $wrote < 1024 * 1024,
                "... both ways through the connection's shared ring: the daemon read $read and wrote $wrote bytes of its sockets");
    }
    else {
        skip("/proc/$dg_pid/io is not readable here: what went through the socket is not checked");
    }
    ok t_ok(defined $first_at && $first_at < length($up),
            sprintf('... the answer began before the upload ended (at %s of %d bytes sent)',
                    $first_at // 'never', length $up));

    # 100-continue goes out when the application reads, not before.
    my $x = $A ? expect_post($A, '/dm?case=sha&sleep=1', 'y' x 50000, 10) : { final => {} };
    ok t_ok($x->{interim} && $x->{t100} >= 0.8,
            sprintf('Expect: 100-continue: the 100 came when the application read, after its 1 s sleep (%s s)',
                    defined $x->{t100} ? sprintf('%.2f', $x->{t100}) : 'no 100'));
    my $xj = decode($x->{final}{body});
    ok t_cmp(($x->{final}{status} // 0) . " " . ($xj->{length} // 0) . " " . ($xj->{sha256} // ''),
             "200 50000 " . sha256_hex('y' x 50000), '... then the body was read whole');
    $x = $A ? expect_post($A, '/dm?case=noread', 'z' x 50000, 10) : { final => {} };
    ok t_ok(!$x->{interim} && ($x->{final}{status} // 0) == 200,
            'an application that never reads: its answer comes without a 100');

    # Chunked request bodies.
    my $cbody = join '', map { chr(($_ * 7) % 256) } 1 .. 300_000;
    my $cr = $A ? chunked_post($A, '/chunked?case=sha', $cbody, 1, 4096, 100_000, 17) : {};
    my $cj = decode($cr->{body});
    ok t_cmp(($cr->{status} // 0) . " " . ($cj->{length} // 0) . " " . ($cj->{sha256} // ''),
             "200 300000 " . sha256_hex($cbody), 'a chunked request body with WSGIChunkedRequest On arrives whole');
    $cr = $A ? chunked_post($A, '/dm?case=sha', 'abc' x 10) : {};
    ok t_cmp($cr->{status} // 0, 411, '... and is refused with 411 without it');

    # LimitRequestBody.
    my ($lc) = $A ? $A->request(POST => '/limit?case=sha', body => 'q' x 20000, http10 => 0) : (0);
    ok t_cmp($lc, 413, 'LimitRequestBody: a longer body with Content-Length gets 413');
    $cr = $A ? chunked_post($A, '/limit?case=sha', 'q' x 20000, 3000) : {};
    ok t_cmp($cr->{status} // 0, 413, '... and a longer chunked body too');
    my ($sc, $sb) = $A ? $A->request(POST => '/limit?case=sha', body => 'q' x 5000, http10 => 0) : (0, '');
    ok t_cmp("$sc " . (decode($sb)->{length} // 0), '200 5000', '... a shorter one is read');

    # HEAD, then a GET on the same connection: the framing holds.
    my ($hd, $hclosed) = $A ? exchange($A, "HEAD /dm?case=hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                       . "GET /dm?case=hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 15)
                            : ('', 0);
    my ($head1, $rest) = split /\r\n\r\n/, $hd, 2;
    my $get = parse_response($rest // '');
    my ($hlen) = ($head1 // '') =~ /^Content-Length: (\d+)/mi;
    ok t_cmp(($head1 // '') =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0, 200, 'HEAD: 200');
    ok t_ok(defined $hlen && ($get->{status} // 0) == 200 && $hlen == length($get->{body})
            && $get->{body} =~ /^hello from \d+\n$/ && $rest =~ m{^HTTP/1\.1 200},
            'HEAD sends no body (the next response on the connection follows its head) and the GET\'s Content-Length');
    my $hg = $A ? keepalive_get($A, '/dm?case=hello_gen') : {};
    my ($hgd) = $A ? exchange($A, "HEAD /dm?case=hello_gen HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 15) : ('');
    ok t_ok(($hg->{body} // '') eq "piece 0\npiece 1\npiece 2\n" && $hgd =~ m{^HTTP/1\.1 200} && $hgd =~ /\r\n\r\n$/,
            'HEAD of a generator response: 200, nothing after the head');

    # A client that goes away mid-response: close() runs once.
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $A ? $A->port : 1, Timeout => 10);
    if ($sock) {
        print $sock "GET /dm?case=closing&marker=gone.log&n=3000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        my $got = '';
        my $sel = IO::Select->new($sock);
        my $deadline = Time::HiRes::time() + 10;
        while (length($got) < 40_000 && (my $left = $deadline - Time::HiRes::time()) > 0) {
            last unless $sel->can_read($left);
            last unless sysread($sock, my $buf, 65536);
            $got .= $buf;
        }
        close $sock;
    }
    my $marker = "$fix/gone.log";
    wait_until(sub { -s $marker }, 15);
    Time::HiRes::sleep(1);
    my @closes = split /\n/, read_file($marker) // '';
    ok t_cmp(scalar(@closes), 1, 'a client that disconnects mid-response: the iterable\'s close() ran exactly once');
    ok t_ok(@closes && $closes[0] =~ /after=(\d+) of=3000/ && $1 < 3000,
            '... and the response stopped early (' . ($closes[0] // 'no close') . ')');

    # WSGIErrorOverride.
    my ($oc, $ob) = $A ? $A->get('/eo?case=status&status=404') : (0, '');
    ok t_cmp("$oc $ob", qr/^404 wsl-dtest custom 404/, 'WSGIErrorOverride On: Apache\'s ErrorDocument replaces the app\'s 404');
    ($oc, $ob) = $A ? $A->get('/eo?case=status&status=202') : (0, '');
    ok t_cmp("$oc $ob", '202 app body for 202', '... not a success');
    ($oc, $ob) = $A ? $A->get('/dm?case=status&status=404') : (0, '');
    ok t_cmp("$oc $ob", '404 app body for 404', '... and without it the app\'s own 404 goes out');

    # WSGIPassAuthorization.
    my ($pc, $pb) = $A ? $A->request(GET => '/pa?case=env', headers => ['Authorization' => 'Bearer wsl-token']) : (0, '');
    ok t_cmp(decode($pb)->{HTTP_AUTHORIZATION} // 'absent', 'Bearer wsl-token', 'WSGIPassAuthorization On: HTTP_AUTHORIZATION reaches the daemon');
    ($pc, $pb) = $A ? $A->request(GET => '/dm?case=env', headers => ['Authorization' => 'Bearer wsl-token']) : (0, '');
    ok t_cmp(decode($pb)->{HTTP_AUTHORIZATION} // 'absent', 'absent', '... and not without it');

    # Basic auth: Apache's REMOTE_USER.
    my ($bc) = $A ? $A->get('/basic?case=env') : (0);
    ok t_cmp($bc, 401, 'Basic auth: no credentials, 401 (the daemon is not asked)');
    my $cred = MIME::Base64::encode_base64('alice:wonderland', '');
    ($bc, my $bb) = $A ? $A->request(GET => '/basic?case=env', headers => ['Authorization' => "Basic $cred"]) : (0, '');
    my $bj = decode($bb);
    ok t_cmp("$bc " . ($bj->{REMOTE_USER} // 'none') . ' ' . ($bj->{AUTH_TYPE} // 'none'), '200 alice Basic',
             'Basic auth: the daemon sees REMOTE_USER and AUTH_TYPE');
    ok t_ok(!exists $bj->{HTTP_AUTHORIZATION}, '... and not the password (no WSGIPassAuthorization)');

    # Trusted proxy headers.
    my ($xc, $xb) = $A ? $A->request(GET => '/proxy?case=env',
        headers => ['X-Forwarded-For' => '203.0.113.9', 'X-Forwarded-Proto' => 'https']) : (0, '');
    my $pj = decode($xb);
    ok t_cmp("$xc " . ($pj->{REMOTE_ADDR} // '') . ' ' . ($pj->{'wsgi.url_scheme'} // ''), '200 203.0.113.9 https',
             'WSGITrustedProxyHeaders: the proxy\'s client address and scheme in the daemon');
    ($xc, $xb) = $A ? $A->request(GET => '/dm?case=env',
        headers => ['X-Forwarded-For' => '203.0.113.9', 'X-Forwarded-Proto' => 'https']) : (0, '');
    $pj = decode($xb);
    ok t_cmp(($pj->{REMOTE_ADDR} // '') . ' ' . ($pj->{'wsgi.url_scheme'} // '') . ' '
             . (exists $pj->{HTTP_X_FORWARDED_FOR} ? 'kept' : 'dropped'), '127.0.0.1 http kept',
             '... untrusted elsewhere: the peer\'s address, the header left as it came');
}

# --- response bodies through the shared ring ------------------------------------------
# Large pieces of a response go through memory the Apache child shares
# with the daemon (src/common/ring.h), not through the socket.  The
# ring holds 1 MiB; 200,000-byte pieces wrap it at no piece's edge.
{
    my $expect = sub {
        my ($seed, $n, $size) = @_;
        return join '', map { substr(Digest::SHA::sha256("$seed-$_") x (int($size / 32) + 1), 0, $size) } 0 .. $n - 1;
    };
    my $wchar = sub { my $t = read_file("/proc/$dg_pid/io") // ''; $t =~ /^wchar: (\d+)/m ? $1 : undef };
    # Three clients at once, each of its own bytes, that wait 1 s before
    # reading: the Apache children's writes to them block, the ring
    # fills, the daemon waits for the room given back.
    my $before = $wchar->();
    my @clients = map {
        my $sock = $A ? IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $A->port, Timeout => 10) : undef;
        if ($sock) {
            binmode $sock;
            print $sock "GET /dm?case=pattern&seed=r$_&n=30&size=200000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        }
        { sock => $sock, seed => "r$_", data => '' };
    } 1 .. 3;
    Time::HiRes::sleep(1);
    my $sel = IO::Select->new(map { $_->{sock} // () } @clients);
    my %by_sock = map { ($_->{sock} // '') => $_ } @clients;
    my $deadline = Time::HiRes::time() + 60;
    while ($sel->count && (my $left = $deadline - Time::HiRes::time()) > 0) {
        for my $s ($sel->can_read($left)) {
            my $n = sysread($s, my $buf, 65536);
            if ($n) { $by_sock{$s}{data} .= $buf } else { $sel->remove($s); close $s }
        }
    }
    my $after = $wchar->();
    my @bad;
    for my $c (@clients) {
        my $r = parse_response($c->{data});
        my $want = $expect->($c->{seed}, 30, 200000);
        push @bad, "$c->{seed}: " . ($r->{status} // 'no status') . ' ' . length($r->{body})
            unless ($r->{status} // 0) == 200 && sha256_hex($r->{body}) eq sha256_hex($want);
    }
    ok t_cmp(join(', ', @bad), '', 'three slow clients at once, 6,000,000 bytes each, of their own: every byte, in order (SHA-256)');
    if (defined $before && defined $after) {
        ok t_ok($after - $before < 1024 * 1024,
                sprintf('... through the shared ring: the daemon wrote %d bytes to its sockets for 18,000,000 of bodies', $after - $before));
    }
    else {
        skip("/proc/$dg_pid/io is not readable here: what the daemon wrote is not checked");
    }
    ok t_ok((read_file("/proc/$dg_pid/maps") // '') =~ m{memfd:wsgi-lite-ring},
            '... the daemon has the rings mapped (/proc/PID/maps)');

    # A client that goes away while the daemon waits for the ring: the
    # daemon sees its connection end, and close() runs once.
    my $sock = $A ? IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $A->port, Timeout => 10) : undef;
    if ($sock) {
        print $sock "GET /dm?case=pattern&seed=g&n=400&size=200000&marker=ring-gone.log HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        Time::HiRes::sleep(1);
        sysread($sock, my $buf, 65536);
        close $sock;
    }
    my $marker = "$fix/ring-gone.log";
    wait_until(sub { -s $marker }, 15);
    Time::HiRes::sleep(0.5);
    my @closes = split /\n/, read_file($marker) // '';
    ok t_ok(@closes == 1 && $closes[0] =~ /after=(\d+) of=400/ && $1 < 400,
            'a client gone while the daemon waits for the ring: close() ran once, early (' . ($closes[0] // 'no close') . ')');
    my ($gc, $gj) = jget($A, '/dm?case=info');
    ok t_cmp("$gc " . ($gj->{pid} // 0), "200 $dg_pid", '... and the daemon serves on');
}

# --- wsgi.file_wrapper of 20 MiB ------------------------------------------------------
{
    my $io = sub { my $t = read_file("/proc/$dg_pid/io") // ''; $t =~ /^rchar: (\d+)/m ? $1 : undef };
    my $before = $io->();
    my ($fc, $fb, $fh) = $A ? $A->get('/dm?case=file&name=blob.bin', 60) : (0, '', '');
    my $after = $io->();
    ok t_cmp("$fc " . length($fb) . ' ' . sha256_hex($fb), "200 $blob_size $blob_sha",
             'wsgi.file_wrapper of a 20 MiB file arrives whole (SHA-256)');
    ok t_cmp(($fh =~ /^Content-Length: (\d+)/mi)[0] // 'none', $blob_size, '... with its Content-Length');
    if (defined $before && defined $after) {
        ok t_ok($after - $before < 2 * 1024 * 1024,
                sprintf('... sent from the Apache child: the daemon read %d bytes meanwhile', $after - $before));
    }
    else {
        skip("/proc/$dg_pid/io is not readable here: where the file was read from is not checked");
    }
}

# --- responses cut short ------------------------------------------------------------------
# A slow request on a connection of its own: started, then read to its end
# by finish_slow.  Its first chunk names the process.
sub start_slow {
    my ($srv, $path) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $srv ? $srv->port : 1,
                                     Timeout => 10) or return {};
    binmode $sock;
    print $sock "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my %slow = (sock => $sock, data => '');
    my $sel = IO::Select->new($sock);
    my $deadline = Time::HiRes::time() + 10;
    while (!defined $slow{pid} && (my $left = $deadline - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        last unless sysread($sock, my $buf, 65536);
        $slow{data} .= $buf;
        $slow{pid} = $1 if $slow{data} =~ /pid=(\d+)\n/;
    }
    return \%slow;
}

sub finish_slow {
    my ($slow) = @_;
    return {} unless $slow->{sock};
    $slow->{data} .= WSLTest::read_until_eof($slow->{sock}, Time::HiRes::time() + 15);
    close $slow->{sock};
    return parse_response($slow->{data});
}

{
    my @lines_before = log_lines($A, qr/cut short on purpose/);
    my $r = $A ? keepalive_get($A, '/dm?case=raise_after') : {};
    # The second chunk was still the module's when the exception came:
    # never sent, as in embedded mode.
    ok t_ok(($r->{status} // 0) == 200 && ($r->{head_raw} // '') =~ /^Transfer-Encoding: chunked/mi
            && $r->{body} eq 'a' x 5000,
            'an app that raises after its first chunk: that chunk reaches the client')
        or diag('received ' . length($r->{raw} // '') . ' bytes: ' . substr($r->{raw} // '', 0, 300));
    ok t_ok(!$r->{complete} && $r->{closed},
            '... then no terminating chunk: the client sees it truncated, and the connection closes');
    ok t_ok(scalar(wait_until(sub { log_lines($A, qr/RuntimeError: wsl-dtest: cut short on purpose/) > @lines_before }, 5)),
            '... and the traceback is in the error log');
    my ($nc, $nj) = jget($A, '/dm?case=info');
    ok t_cmp("$nc $nj->{pid}", "200 $dg_pid", '... the process serves the next request');

    # Killed after the head, while requests of another group and of
    # embedded mode run.
    my @dk_before = grep { alive($_) } daemon_pids($A, 'dk');
    my $slow_dg = start_slow($A, '/dm?case=slow&sleep=3');
    my $slow_emb = start_slow($A, '/emb?case=slow&sleep=3');
    ok t_ok($slow_dg->{pid} && $slow_emb->{pid} && @dk_before == 2,
            '(setup) slow requests run in dg and embedded, dk has two processes');
    my $k = $A ? keepalive_get($A, '/crash?case=kill_after', 15) : {};
    my ($killed) = ($k->{head_raw} // '') =~ /^X-Pid: (\d+)/mi;
    $killed //= 0;
    ok t_ok($killed && ($k->{status} // 0) == 200 && $k->{body} eq 'k' x 10000,
            'a daemon process killed (SIGKILL) after its head and some body: what was sent arrives')
        or diag('received ' . length($k->{raw} // '') . ' bytes: ' . substr($k->{raw} // '', 0, 300));
    ok t_ok(!$k->{complete} && $k->{closed}, '... then the response is seen truncated (no terminating chunk), the connection closed');
    my @done = map { finish_slow($_) } $slow_dg, $slow_emb;
    ok t_ok(($done[0]{status} // 0) == 200 && $done[0]{complete} && $done[0]{body} eq "pid=$slow_dg->{pid}\nend\n"
            && ($done[1]{status} // 0) == 200 && $done[1]{complete} && $done[1]{body} eq "pid=$slow_emb->{pid}\nend\n",
            'the requests running meanwhile, in another group and embedded, complete unharmed');
    my ($other) = grep { $_ != $killed } @dk_before;
    ok t_ok($other && alive($other), "dk's other process lives on ($other)");
    ok t_ok(scalar(wait_until(sub { log_lines($A, qr/WSL00181: daemon process $killed of WSGIDaemonProcess dk was killed by signal 9 \(Killed\)/) }, 5)),
            'the supervisor logs the death, naming the signal (WSL00181)');
    my ($ac, $aj) = jget($A, '/crash?case=info');
    ok t_ok($ac == 200 && $aj->{pid} && $aj->{pid} != $killed,
            "the next request is served by a live process (pid " . ($aj->{pid} // '?') . ", not $killed)");

    # Killed before the head: 502, and the request is not sent again (it
    # would kill the next process too).
    my @deaths = log_lines($A, qr/WSL00181: .* dk was killed by signal 9/);
    my ($bc) = jget($A, '/crash?case=kill_before', 30);
    ok t_cmp($bc, 502, 'a daemon process killed before the head: 502');
    my $second = wait_until(sub {
        my @now = log_lines($A, qr/WSL00181: .* dk was killed by signal 9/);
        return @now > @deaths ? ($now[-1] =~ /daemon process (\d+) /)[0] : undef;
    }, 5);
    Time::HiRes::sleep(0.5);
    ok t_cmp(scalar(log_lines($A, qr/WSL00181: .* dk was killed by signal 9/)) - @deaths, 1,
             '... one process died: the request was not run again (WSL00181, pid ' . ($second // '?') . ')');
    ($ac, $aj) = jget($A, '/crash?case=info');
    ok t_ok($ac == 200 && $aj->{pid} && $aj->{pid} != ($second // 0),
            'the next request is served by another process');
    wait_until(sub { grep({ alive($_) } daemon_pids($A, 'dk')) == 2 }, 10);
    my @fresh = grep { alive($_) } daemon_pids($A, 'dk');
    ok t_ok(@fresh == 2 && !grep({ $_ == $killed || $_ == ($second // 0) } @fresh),
            'dk has its two processes again, neither of them one that died (' . join(' ', @fresh) . ')');
}

# --- two groups, a missing one ------------------------------------------------------------
{
    my ($c1, $j1) = jget($A, '/disp?case=info&g=dg');
    my ($c2, $j2) = jget($A, '/disp?case=info&g=dg2');
    my ($c0, $j0) = jget($A, '/disp?case=info&g=');
    ok t_cmp("$c1 $j1->{environ_process_group} $c2 $j2->{environ_process_group}", '200 dg 200 dg2',
             'WSGIDispatchScript process_group() sends requests to two groups');
    ok t_ok($j1->{pid} && $j2->{pid} && $j1->{pid} != $j2->{pid} && $j1->{pid} == $dg_pid,
            '... run by different processes, dg\'s own');
    ok t_cmp("$c0 '$j0->{environ_process_group}'", "200 ''", '... and the empty name runs it embedded');
    my ($mc) = jget($A, '/disp?case=info&g=wsl-nope');
    ok t_cmp($mc, 500, 'a dispatch script naming no group: 500');
    ok t_ok(scalar(wait_until(sub { log_lines($A, qr/WSL00051: WSGIDispatchScript wsl-nope: no WSGIDaemonProcess of that name/) }, 5)),
            '... logged (WSL00051)');
    ($mc) = jget($A, '/none?case=info');
    ok t_cmp($mc, 500, 'process-group= naming no group: 500');
    ok t_ok(scalar(wait_until(sub { log_lines($A, qr/WSL00051: .*wsl-no-such-group: no WSGIDaemonProcess of that name \(for '\/none'\)/) }, 5)),
            '... logged (WSL00051)');
}

# --- processes=2 threads=1: two requests at once run at once -----------------------------
{
    my $t0 = Time::HiRes::time();
    my @slow = map { start_slow($A, '/par?case=slow&sleep=1.5') } 1, 2;
    my $started = Time::HiRes::time() - $t0;
    my @done = map { finish_slow($_) } @slow;
    my @pids = map { $_->{pid} // 0 } @slow;
    ok t_ok(($done[0]{status} // 0) == 200 && ($done[1]{status} // 0) == 200 && $pids[0] && $pids[1]
            && $pids[0] != $pids[1] && $started < 1.2,
            sprintf('processes=2 threads=1: two requests at once run in the two processes at once (%s, both begun in %.2f s)',
                    "@pids", $started));
}

# --- kept connections go to a process with a free thread ---------------------------------
# Apache's children keep their connections to the daemons.  Each round
# first runs nine requests at once against six threads: three wait for
# a thread, and the connections they open go to whichever process frees
# one first, so the kept ones end up more to one process than the other.
# Then six requests that each hold their thread, begun one after the
# other: three must run in each process.  Taking the connection given
# back last (a stack) sent four or more to one process, which queued
# them while the other had threads idle.
sub fire {
    my ($srv, $path, $n) = @_;
    my @socks = grep { $_ } map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $srv->port,
                                                        Timeout => 10) } 1 .. $n;
    print $_ "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n" for @socks;
    my @pids = map { (WSLTest::read_until_eof($_, Time::HiRes::time() + 15) =~ /pid=(\d+)\n/)[0] // 0 } @socks;
    close $_ for @socks;
    return @pids;
}

SKIP: {
    skip 'server A did not start', 15 unless $A;
    for my $round (1 .. 5) {
        my @busy = fire($A, '/bal?case=slow&sleep=0.3', 9);
        my @slow = map { start_slow($A, '/bal?case=slow&sleep=0.8') } 1 .. 6;
        my %per;
        $per{$_->{pid} // 0}++ for @slow;
        finish_slow($_) for @slow;
        my $shares = join ' ', map { "$_ x $per{$_}" } sort keys %per;
        ok t_ok((grep { $_ } @busy) == 9, "kept connections, round $round: nine requests at once on six threads all answered");
        ok t_ok(keys %per == 2 && !grep({ $per{$_} != 3 || !$_ } keys %per),
                "... then six that each hold a thread, begun one by one: three in each of the two processes ($shares)");
        # Six at once: the child's figures lag behind them, and a process
        # may accept a new connection for a thread a kept one is about to
        # claim.  A request on a kept connection that finds its process
        # full must go to the other process (sent back, to come again on
        # a new connection), not wait there for a thread.
        my @burst = fire($A, '/bal?case=slow&sleep=0.8', 6);
        my %at_once;
        $at_once{$_}++ for @burst;
        my $split = join ' ', map { "$_ x $at_once{$_}" } sort keys %at_once;
        ok t_ok(keys %at_once == 2 && !grep({ $at_once{$_} != 3 || !$_ } keys %at_once),
                "... then six at once: three in each of the two processes ($split)");
    }
}

# --- restarts: SIGINT, a changed script, SIGKILL ---------------------------------------------
{
    my ($c0, $j0) = jget($A, '/sig?case=info');
    my $old = $j0->{pid} // 0;
    my ($ci, $ji) = jget($A, '/sig?case=sigint');
    ok t_cmp("$ci $ji->{pid}", "200 $old", 'the SIGINT idiom: the request that sends it gets its answer');
    my (@codes, $new);
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        my ($c, $jj) = jget($A, '/sig?case=info', 10);
        push @codes, $c;
        if ($jj->{pid} && $jj->{pid} != $old) { $new = $jj->{pid}; last }
        Time::HiRes::sleep(0.05);
    }
    ok t_ok($new, 'a new process serves within a few seconds (' . ($new // 'none') . ')');
    ok t_cmp(join(' ', grep { $_ != 200 } @codes), '', 'no request failed meanwhile (' . scalar(@codes) . ' requests)');
    my ($line) = log_lines($A, qr/WSL00181: daemon process $old of WSGIDaemonProcess ds/);
    ok t_cmp($line // 'no WSL00181 line', qr/WSL00181: daemon process $old of WSGIDaemonProcess ds restarted; starting another$/,
             'logged as a restart, at once (WSL00181)');
    ok t_ok(!alive($old), 'the old process is gone');

    # WSGIScriptReloading On (the default): a changed script restarts the
    # process, and the request that saw the change runs the new code.
    my ($r1, undef, $b1) = jget($A, '/reload');
    my ($p1) = $b1 =~ /^v1 pid=(\d+)$/;
    ok t_cmp("$r1 $b1", qr/^200 v1 pid=\d+$/, '(setup) the script as it was');
    write_reload_script('v2', time + 2);
    my ($r2, undef, $b2) = jget($A, '/reload');
    my ($p2) = $b2 =~ /^v2 pid=(\d+)$/;
    ok t_cmp("$r2 $b2", qr/^200 v2 pid=\d+$/, 'a changed script: the request that saw the change gets 200 and the new code');
    ok t_ok($p1 && $p2 && $p1 != $p2, "... from a new process ($p1 then " . ($p2 // '?') . ')');
    my $p1n = $p1 // 0;
    ok t_ok(scalar(log_lines($A, qr/WSL00189: daemon process $p1n of WSGIDaemonProcess dr stopping \(its WSGI script changed\)/)),
            '... the old one stopped because its script changed (WSL00189)');
    my ($r3, undef, $b3) = jget($A, '/reload');
    ok t_cmp("$r3 $b3", "200 v2 pid=" . ($p2 // '?'), 'the next request: the new process, no restart');

    # SIGKILL from outside.
    my ($kc, $kj) = jget($A, '/two?case=info');
    my $victim = $kj->{pid} // 0;
    kill 'KILL', $victim if $victim;
    my $line2 = wait_until(sub { (log_lines($A, qr/WSL00181: daemon process $victim of WSGIDaemonProcess dg2/))[0] }, 10);
    ok t_cmp($line2 // 'no WSL00181 line', qr/was killed by signal 9 \(Killed\), or exited with status 9; starting another$/,
             'a daemon killed with SIGKILL: its death is logged, naming the signal');
    wait_until(sub { grep({ alive($_) } daemon_pids($A, 'dg2')) == 2 }, 10);
    my @dg2 = grep { alive($_) } daemon_pids($A, 'dg2');
    ok t_ok(@dg2 == 2 && !grep({ $_ == $victim } @dg2), 'it is replaced: dg2 has two live processes again (' . join(' ', @dg2) . ')');
    my %seen;
    for (1 .. 8) { my ($c, $jj) = jget($A, '/two?case=info', 10); $seen{$c == 200 ? 'ok' : $c}++ }
    ok t_cmp(join(' ', map { "$_=$seen{$_}" } sort keys %seen), 'ok=8', '... and the group serves');
}

# --- a graceful restart, then a stop -----------------------------------------------------------
{
    my @old = grep { alive($_) } map { daemon_pids($A, $_) } qw(dg dg2 dg3 dv dk ds dr dpar);
    ok t_cmp(scalar(@old), 11, '(setup) 11 daemon processes run (1+2+1+1+2+1+1+2)');
    $A->signal('USR1') if $A;
    my $gone = wait_until(sub { !grep { alive($_) } @old }, 15);
    ok t_ok($gone, 'a graceful restart: every daemon of the old generation is gone');
    my $ok = wait_until(sub { my ($c, $jj) = jget($A, '/dm?case=info', 5); $c == 200 && $jj->{pid} != $dg_pid ? $jj->{pid} : 0 }, 15);
    ok t_ok($ok, "... and a new dg process serves ($ok)");
    wait_until(sub { grep({ alive($_) } map { daemon_pids($A, $_) } qw(dg dg2 dg3 dv dk ds dr dpar)) - grep({ alive($_) } @old) >= 11 }, 10);
    my @now = grep { alive($_) } map { daemon_pids($A, $_) } qw(dg dg2 dg3 dv dk ds dr dpar);
    ok t_cmp(scalar(@now), 11, '... as do all 11 of the new generation');
    my $secs = $A ? $A->stop(20) : undef;
    keep_log($A, 'A');
    ok t_ok(defined $secs, sprintf('the server stops (%s s)', defined $secs ? sprintf('%.2f', $secs) : 'not'));
    ok t_cmp(join(' ', grep { alive($_) } @now), '', 'no daemon process is left after the stop');
    ok t_cmp(join("\n", log_lines($A, qr/WSL00183|Segmentation fault|Fatal Python error|AH00052/)), '',
             'none had to be killed, none crashed');
}

# --- server B: a daemon that dies at start-up -------------------------------------------------
{
    write_file("$fix/b/die", '');
    my $B = start_server('B (a group that dies at start-up)', <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
SetEnv WSL_FIXTURES $fix
WSGIDaemonProcess db processes=1 threads=1
WSGIImportScript $fix/b/import_exit.py process-group=db application-group=%{GLOBAL}
WSGIScriptAlias /db $app process-group=db
CONF
    my $re = qr/WSL00181: daemon process \d+ of WSGIDaemonProcess db exited with status 77; starting another in ([\d.]+) s$/;
    wait_until(sub { log_lines($B, $re) >= 4 }, 20);
    unlink "$fix/b/die";
    my @deaths = (log_lines($B, $re))[0 .. 3];
    @deaths = grep { defined } @deaths;
    ok t_cmp(scalar(@deaths), 4, 'a process that exits at start-up is restarted, and its deaths logged (WSL00181)')
        or diag(join "\n", log_lines($B, qr/WSL00181/));
    my @delays = map { /$re/ ? $1 : () } @deaths;
    ok t_cmp("@delays", '0.2 0.4 0.8 1.6', 'the delay before each restart doubles');
    my ($dc, $dj) = (0, {});
    wait_until(sub { ($dc, $dj) = jget($B, '/db?case=info', 5); $dc == 200 }, 10);
    ok t_cmp("$dc " . ($dj->{environ_process_group} // ''), '200 db', 'once it can start, the group serves');
    # Each death is noticed at the MPM's next once-a-second check; the
    # process started after it waits its delay before it sets up (and
    # leaves its start.<pid> file then).
    my $when = sub {
        my ($line) = @_;
        my ($d, $mon, $day, $h, $m, $sec, $y) = $line =~ /^\[(\w+) (\w+) (\d+) (\d+):(\d+):([\d.]+) (\d+)\]/ or return undef;
        my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5, Jul => 6,
                   Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
        return POSIX::mktime(0, $m, $h, $day, $mon{$mon}, $y - 1900, 0, 0, -1) + $sec;
    };
    my @starts = sort { $a <=> $b } map { (Time::HiRes::stat($_))[9] } glob("$fix/b/start.*");
    my @waits = map { defined $starts[$_ + 1] && defined $when->($deaths[$_]) ? $starts[$_ + 1] - $when->($deaths[$_]) : -1 } 0 .. $#deaths;
    my @late = grep { $waits[$_] < $delays[$_] - 0.05 || $waits[$_] > $delays[$_] + 1 } 0 .. $#deaths;
    ok t_ok(@deaths == 4 && !@late, 'each restart waits its delay after the death (' . join(' ', map { sprintf '%.2f s', $_ } @waits) . ')');
    ok t_ok(@starts >= 4 && @starts <= 6, 'no fork storm: ' . scalar(@starts) . ' start-ups in all');
    my $secs = $B ? $B->stop(20) : undef;
    keep_log($B, 'B');
    ok t_ok(defined $secs, 'server B stops');
}

# --- server C: WSGIRestrictEmbedded On ----------------------------------------------------------
{
    my $lib = "$fix/c";
    write_file("$lib/wsl_started.pth",
               "import os; open(os.path.join('$lib', 'started.%d' % os.getpid()), 'w').close()\n");
    File::Copy::copy("$docroot/daemon/import_marker.py", "$lib/import_marker.py") or die $!;
    my $C = start_server('C (WSGIRestrictEmbedded On)', <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
WSGIRestrictEmbedded On
WSGIPythonPath $lib
WSGIDaemonProcess dc processes=1 threads=2
WSGIImportScript $lib/import_marker.py process-group=dc application-group=%{GLOBAL}
WSGIScriptAlias /dc $app process-group=dc
WSGIScriptAlias /emb $app
CONF
    my ($cc, $cj) = jget($C, '/dc?case=info');
    ok t_cmp("$cc " . ($cj->{environ_process_group} // ''), '200 dc', 'WSGIRestrictEmbedded On: a daemon request is served');
    my ($ec) = jget($C, '/emb?case=info');
    ok t_cmp($ec, 500, '... an embedded one refused with 500');
    ok t_ok(scalar(wait_until(sub { log_lines($C, qr/WSL00161: embedded mode is disabled .*\(for '\/emb'\)/) }, 5)),
            '... logged (WSL00161)');
    my @started = map { /started\.(\d+)$/ ? $1 : () } glob("$lib/started.*");
    ok t_cmp(join(' ', @started), $cj->{pid} // 'none',
             'Python started in the daemon only: no Apache child started it (a .pth on WSGIPythonPath marks each)');
    my @children = grep { alive($_) && $_ != ($cj->{pid} // 0) } $C ? $C->children : ();
    ok t_ok(@children >= 1, '(setup) the Apache children are there: ' . join(' ', @children));
    my @imp = map { /imported\.(\d+)$/ ? $1 : () } glob("$lib/imported.*");
    ok t_cmp(join(' ', @imp), $cj->{pid} // 'none', 'its WSGIImportScript process-group=dc ran in the daemon');
    my @note = log_lines($C, qr/WSL00162/);
    ok t_cmp($note[0] // 'no WSL00162', qr/Python is not started in Apache's children/,
             'the start-up note says Python is not started in Apache\'s children (WSL00162)');
    my $secs = $C ? $C->stop(20) : undef;
    keep_log($C, 'C');
    ok t_ok(defined $secs, 'server C stops');
}

# --- server D: the parent killed ---------------------------------------------------------------
{
    my $D = start_server('D (parent to be killed)', <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
WSGIDaemonProcess dd processes=2 threads=2 display-name=wsl-dtest-orphan
WSGIScriptAlias /dd $app process-group=dd
CONF
    my ($dc) = jget($D, '/dd?case=info');
    my @daemons = grep { alive($_) } daemon_pids($D, 'dd');
    my @children = $D ? $D->children : ();
    ok t_ok($dc == 200 && @daemons == 2, '(setup) two daemons serve: ' . join(' ', @daemons));
    my $t0 = Time::HiRes::time();
    kill 'KILL', $D->pid if $D;
    my $gone = wait_until(sub { !grep { alive($_) } @daemons }, 10);
    my $took = Time::HiRes::time() - $t0;
    ok t_ok($gone && $took <= 2.5, sprintf('the parent killed with SIGKILL: its daemons exit by themselves (%.2f s)', $took));
    # The Apache children are not this test's subject: end them.
    kill 'KILL', grep { alive($_) } @children, @daemons;
    keep_log($D, 'D');
    delete $D->{pid} if $D;
}

# --- server H: HTTP/2 --------------------------------------------------------------------------
if (!$have_h2) {
    skip("no mod_http2 or no curl with HTTP2: HTTP/2 is not tested") for 1 .. 6;
}
else {
    my $H = start_server('H (HTTP/2)', <<"CONF");
<IfModule !mod_http2.c>
    LoadModule http2_module $h2_so
</IfModule>
Protocols h2c http/1.1
WSGISocketPrefix \@TMPDIR\@/wsgi
SetEnv WSL_FIXTURES $fix
WSGIDaemonProcess dh processes=1 threads=4
WSGIScriptAlias /h2 $app process-group=dh
CONF
    my $port = $H ? $H->port : 0;
    my $curl = sub {
        my ($path, @extra) = @_;
        my $out = "$fix/h2.out";
        unlink $out;
        my @cmd = ('curl', '-sS', '--max-time', '60', '--http2-prior-knowledge', '-o', $out,
                   '-w', '%{http_version} %{http_code}', @extra, "http://127.0.0.1:$port$path");
        my $w = `@{[ join ' ', map { "'$_'" } @cmd ]} 2>&1`;
        return ($w, read_file($out) // '');
    };
    my ($w, $body) = $curl->('/h2?case=info');
    my $hj = decode($body);
    if ($w !~ /^2 / && $mpm eq 'prefork') {
        skip("mod_http2 does not serve HTTP/2 under prefork here ($w)") for 1 .. 4;
    }
    else {
        ok t_cmp("$w " . ($hj->{environ_process_group} // ''), '2 200 dh', 'HTTP/2: a GET runs in the daemon');
        my $up = substr(read_file("$fix/blob.bin"), 0, 3 * 1024 * 1024 + 7);
        write_file("$fix/h2.up", $up);
        ($w, $body) = $curl->('/h2?case=sha', '--data-binary', "\@$fix/h2.up", '-H', 'Content-Type: application/octet-stream');
        my $sj = decode($body);
        ok t_cmp("$w " . ($sj->{length} // 0) . ' ' . ($sj->{sha256} // ''), "2 200 " . length($up) . ' ' . sha256_hex($up),
                 'HTTP/2: a 3 MiB POST body reaches the daemon whole');
        ($w, $body) = $curl->('/h2?case=echo', '--data-binary', "\@$fix/h2.up", '-H', 'Content-Type: application/octet-stream');
        ok t_cmp("$w " . length($body) . ' ' . sha256_hex($body), "2 200 " . length($up) . ' ' . sha256_hex($up),
                 'HTTP/2: ... and echoed as it is read');
        ($w, $body) = $curl->('/h2?case=file&name=blob.bin');
        ok t_cmp("$w " . length($body) . ' ' . sha256_hex($body), "2 200 $blob_size $blob_sha",
                 'HTTP/2: wsgi.file_wrapper of 20 MiB');
    }
    my $secs = $H ? $H->stop(20) : undef;
    keep_log($H, 'H');
    ok t_ok(defined $secs, 'server H stops');
}
