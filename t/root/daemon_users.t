# t/root/daemon_users.t: what only a root-started Apache can show about
# daemon mode (issue 16): WSGIDaemonProcess user=, group= and
# supplementary-groups= (they apply only when Apache starts as root, as in
# mod_wsgi), a daemon that cannot become its user or enter its home dying
# without serving (mod_wsgi's CVE-2014-8583 and CVE-2014-0240), the
# socket's permissions and the refusal of a peer that is not Apache's
# user, and no daemon left once Apache stops or its parent is killed.
#
# Plain Test::More, no Apache::Test (which refuses root): t/run.sh runs it
# as root after the suite, and it starts its own /usr/sbin/apache2 as
# root, once per MPM (WSL_MPMS, default "event prefork"), with User
# wsltest (WSL_TEST_USER) from a configuration it writes in a temporary
# directory.  It makes two throwaway users and two groups, and removes
# them, and every process it started, when it ends.
use strict;
use warnings;

use Test::More;
use File::Temp ();
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use HTTP::Tiny ();
use JSON::PP ();
use Time::HiRes qw(time sleep);

plan skip_all => "needs root (Apache must start as root for user=/group= "
    . "to apply); run as root, as make test does in CI"
    if $> != 0;

# A peer the daemon refuses may see its write fail: EPIPE, not a signal.
$SIG{PIPE} = 'IGNORE';
# Interrupted: still clean up (END).
$SIG{INT} = $SIG{TERM} = sub { exit 130 };

my $top = abs_path(dirname(__FILE__) . '/../..');
my $so = $ENV{WSL_MODULE_SO} || "$top/.libs/mod_wsgi_lite.so";
my $apache_user = $ENV{WSL_TEST_USER} || 'wsltest';
my $httpd = '/usr/sbin/apache2';
my $modules = '/usr/lib/apache2/modules';
my @mpms = split ' ', ($ENV{WSL_MPMS} || 'event prefork');

BAIL_OUT("$so not found: run make first") unless -f $so;
BAIL_OUT("$httpd not found") unless -x $httpd;
my @apache_pw = getpwnam($apache_user)
    or plan skip_all => "no user $apache_user (t/run.sh creates it)";
my ($apache_uid, $apache_gid) = @apache_pw[2, 3];
my $apache_group = getgrgid($apache_gid)
    or BAIL_OUT("${apache_user}'s group $apache_gid has no name");
my @nobody = getpwnam('nobody') or BAIL_OUT('no user nobody');
my $nogroup_gid = getgrnam('nogroup');
BAIL_OUT('no group nogroup') unless defined $nogroup_gid;

# --- throwaway users and groups, removed in END --------------------------------

my $tag = "wslrt$$";
# The daemons' display-name prefix: short, since a display-name shows only
# in the length of argv[0] (as mod_wsgi's does), 17 bytes for apache2.
my $dtag = "wr$$";
my (@made_users, @made_groups, %apache_pids, $tmpdir);

sub run_quiet {
    my $out = `@_ 2>&1`;
    die "'@_' failed: $out" if $?;
}

for my $g ("${tag}a", "${tag}b") {
    run_quiet('groupadd', '--system', $g);
    push @made_groups, $g;
}
# fail: the user whose setuid() is made to fail.  ini: a member of group a,
# for initgroups().
for my $u (["${tag}f"], ["${tag}i", '-G', "${tag}a"]) {
    run_quiet('useradd', '--system', '--no-create-home', '--home-dir', '/',
              '--shell', '/usr/sbin/nologin', '--user-group', @$u);
    push @made_users, $u->[0];
}
my $gid_a = getgrnam("${tag}a");
my $gid_b = getgrnam("${tag}b");
my $uid_fail = getpwnam("${tag}f");
my $uid_ini = getpwnam("${tag}i");

# Any Apache of ours still running (a check that died half-way): its
# parent stopped, then anything of it left killed, by pid, never by name.
sub stop_leftovers {
    for my $pid (grep { alive($_) } keys %apache_pids) {
        my @kids = children_of($pid);
        kill 'TERM', $pid;
        wait_for(10, sub { !alive($pid) });
        kill_and_wait($pid, @kids);
    }
    %apache_pids = ();
}

# Processes running as the users this test made (its daemons): by pid.
sub pids_of_users {
    my %uids = map { scalar(getpwnam($_)) // -1 => 1 } @made_users;
    opendir my $dh, '/proc' or return;
    my @pids = grep {
        my $st = proc_status($_);
        $st && $st->{State} !~ /^[ZX]/ && $uids{ (split ' ', $st->{Uid})[0] };
    } grep /^\d+$/, readdir $dh;
    closedir $dh;
    return @pids;
}

END {
    my $rc = $?;
    stop_leftovers();
    kill_and_wait(pids_of_users());
    for my $u (@made_users) {
        system("userdel $u >/dev/null 2>&1") == 0
            or print STDERR "# could not remove user $u\n";
    }
    for my $g (@made_groups) {
        system("groupdel $g >/dev/null 2>&1") if defined getgrnam($g);
    }
    $? = $rc;
}

$tmpdir = File::Temp->newdir("wsl-root-XXXXXX", TMPDIR => 1);
my $dir = "$tmpdir";
chmod 0755, $dir;

# What each group's app reports: who it runs as, where, and for whom.
my $app = "$dir/app.wsgi";
write_file($app, <<'PY', 0644);
import json, os

def application(environ, start_response):
    body = json.dumps({
        'pid': os.getpid(), 'ppid': os.getppid(),
        'uid': os.getuid(), 'euid': os.geteuid(),
        'gid': os.getgid(), 'egid': os.getegid(),
        'groups': sorted(os.getgroups()), 'cwd': os.getcwd(),
        'process_group': environ.get('mod_wsgi.process_group'),
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
PY
mkdir "$dir/htdocs" or die "$dir/htdocs: $!";
# A home directory nobody may enter.
mkdir "$dir/locked", 0700 or die "$dir/locked: $!";
chmod 0700, "$dir/locked";

# [name, options]: each group serves the app at /name.  fail and nohome
# never come up; their timeouts are short so their requests fail fast.
my @groups = (
    [nob    => "user=nobody group=nogroup home=/"],
    [sup    => "user=nobody group=nogroup home=/ "
               . "supplementary-groups=${tag}a,${tag}b"],
    [ini    => "user=${tag}i"],
    [dflt   => ""],
    [fail   => "user=${tag}f connect-timeout=2 socket-timeout=2"],
    [nohome => "user=nobody group=nogroup home=$dir/locked "
               . "connect-timeout=2 socket-timeout=2"],
);
my %group_index = map { $groups[$_][0] => $_ } 0 .. $#groups;

sub write_file {
    my ($path, $text, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
    chmod $mode, $path;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub write_conf {
    my ($mpm, $port) = @_;
    my $conf = "$dir/httpd-$mpm.conf";
    my $text = <<CONF;
ServerRoot "$dir"
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LogLevel info
ServerName localhost
Listen 127.0.0.1:$port
User $apache_user
Group $apache_group
LoadModule mpm_${mpm}_module $modules/mod_mpm_$mpm.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule wsgi_lite_module $so
StartServers 1
<IfModule mpm_event_module>
    ServerLimit 1
    ThreadsPerChild 4
    MinSpareThreads 1
    MaxSpareThreads 4
    MaxRequestWorkers 4
</IfModule>
<IfModule mpm_prefork_module>
    MinSpareServers 1
    MaxSpareServers 2
    MaxRequestWorkers 3
</IfModule>
DocumentRoot "$dir/htdocs"
WSGISocketPrefix "$dir/wsgi-$mpm"
WSGIApplicationGroup %{GLOBAL}
CONF
    for my $g (@groups) {
        my ($name, $opts) = @$g;
        $text .= "WSGIDaemonProcess $name threads=2 display-name=$dtag-$name"
            . " $opts\n"
            . "WSGIScriptAlias /$name \"$app\"\n"
            . "<Location /$name>\n    WSGIProcessGroup $name\n</Location>\n";
    }
    write_file($conf, $text, 0644);
    return $conf;
}

# --- processes ---------------------------------------------------------------

sub alive {
    my ($pid) = @_;
    my $st = proc_status($pid) or return 0;
    return $st->{State} !~ /^[ZX]/;     # a zombie has exited
}

sub proc_status {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return;
    my %st = map { /^(\w+):\s*(.*)$/ ? ($1, $2) : () } <$fh>;
    close $fh;
    return \%st;
}

sub cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$fh> // '';
    close $fh;
    $c =~ s/\0+$//;
    $c =~ tr/\0/ /;
    return $c;
}

# Live children of $parent.
sub children_of {
    my ($parent) = @_;
    opendir my $dh, '/proc' or return;
    my @kids = grep {
        my $st = proc_status($_);
        $st && $st->{PPid} == $parent && $st->{State} !~ /^[ZX]/;
    } grep /^\d+$/, readdir $dh;
    closedir $dh;
    return @kids;
}

# The daemon processes among them: named (display-name) or, before they
# name themselves and drop root (in their back-off delay), still root;
# Apache's own children have switched to the Apache user.
sub daemon_pids {
    my ($parent) = @_;
    return grep {
        my $st = proc_status($_);
        cmdline($_) =~ /^\Q$dtag\E-/ || ($st && (split ' ', $st->{Uid})[0] == 0);
    } children_of($parent);
}

sub wait_for {
    my ($timeout, $cond) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        my $r = $cond->();
        return $r if $r;
        sleep 0.05;
    }
    return $cond->();
}

sub read_pid {
    open my $fh, '<', "$dir/httpd.pid" or return;
    my $pid = <$fh>;
    close $fh;
    return $pid && $pid =~ /^(\d+)/ ? $1 : undef;
}

sub log_text {
    open my $fh, '<', "$dir/error_log" or return '';
    local $/;
    my $t = <$fh> // '';
    close $fh;
    return $t;
}

my $http = HTTP::Tiny->new(timeout => 15);
my $port;

sub get {
    my ($path) = @_;
    my $res = $http->get("http://127.0.0.1:$port$path");
    return ($res->{status}, $res->{content} // '');
}

sub get_json {
    my ($path) = @_;
    my ($code, $body) = get($path);
    my $j = $code == 200 ? eval { JSON::PP::decode_json($body) } : undef;
    return $j || { status => $code, body => $body };
}

# Start Apache as root under t/root/setuid_fails.py: setuid() to the
# "fail" user returns EAGAIN (see that file for why not RLIMIT_NPROC).
# The parent's pid, once the "dflt" group answers.
sub start_apache {
    my ($conf, $log_from) = @_;
    unlink "$dir/httpd.pid";
    my $out = `/usr/bin/python3 "$top/t/root/setuid_fails.py" $uid_fail $httpd -f "$conf" -k start 2>&1`;
    my $rc = $? >> 8;
    return (undef, "setuid_fails.py cannot filter here: $out") if $rc == 3;
    die "cannot start $httpd -f $conf: $out" . log_text() if $rc;
    my $pid = wait_for(10, \&read_pid) or die "no pid file: " . log_text();
    $apache_pids{$pid} = 1;
    wait_for(30, sub { my ($c) = get('/dflt'); $c == 200 })
        or die "the dflt group does not answer: "
             . substr(log_text(), $log_from);
    return ($pid, undef);
}

sub kill_and_wait {
    my @pids = @_;
    kill 'TERM', @pids;
    return if wait_for(5, sub { !grep { alive($_) } @pids });
    kill 'KILL', grep { alive($_) } @pids;
    wait_for(5, sub { !grep { alive($_) } @pids });
}

# The groups of an initgroups(user, gid): gid and those that list user.
sub initgroups_of {
    my ($user, $gid) = @_;
    my %g = ($gid => 1);
    setgrent();
    while (my @gr = getgrent()) {
        $g{ $gr[2] } = 1 if grep { $_ eq $user } split ' ', $gr[3];
    }
    endgrent();
    return [sort { $a <=> $b } keys %g];
}

# WSL00181 lines of group $name after $from: the back-off delays, in s.
sub backoff_delays {
    my ($name, $from) = @_;
    my $log = substr(log_text(), $from);
    return map { /starting another in ([\d.]+) s/ ? $1 : 0 }
        grep /WSL00181: daemon process \d+ of WSGIDaemonProcess \Q$name\E /,
        split /\n/, $log;
}

# --- the checks, per MPM -----------------------------------------------------

sub check_mpm {
    my ($mpm) = @_;
    $port = free_port();
    my $conf = write_conf($mpm, $port);
    my $log_from = length log_text();
    my ($parent, $why) = start_apache($conf, $log_from);
    if (!$parent) {
        SKIP: { skip "$mpm: $why", 1 }
        return;
    }

    # user= and group=: nobody and nogroup, with nobody's initgroups().
    my $j = get_json('/nob');
    is_deeply [@$j{qw(uid euid gid egid)}],
        [$nobody[2], $nobody[2], $nogroup_gid, $nogroup_gid],
        "$mpm: user=nobody group=nogroup: the app runs as nobody:nogroup"
        or diag explain $j;
    is_deeply $j->{groups}, initgroups_of('nobody', $nogroup_gid),
        "$mpm: without supplementary-groups, getgroups() is initgroups(nobody, nogroup)";
    is $j->{process_group}, 'nob', "$mpm: (the request ran in group nob)";
    my $st = proc_status($j->{pid} // 0) || {};
    is((split ' ', $st->{Uid} // '')[0] . '/' . (split ' ', $st->{Gid} // '')[0],
       "$nobody[2]/$nogroup_gid",
       "$mpm: the kernel agrees: the daemon process's real uid/gid are nobody's");
    is $st->{PPid}, $parent, "$mpm: the daemon is a child of Apache's parent";
    my $ps = `ps -o uid=,args= -p $j->{pid}`;
    like $ps, qr/^\s*$nobody[2]\s+\Q$dtag\E-nob\b/,
        "$mpm: ps shows the daemon with nobody's uid and its display-name";

    # supplementary-groups=: exactly the primary group and those named.
    $j = get_json('/sup');
    is_deeply $j->{groups},
        [sort { $a <=> $b } $nogroup_gid, $gid_a, $gid_b],
        "$mpm: supplementary-groups=a,b: getgroups() is group= plus exactly a and b (as mod_wsgi's setgroups)"
        or diag explain $j;
    is $j->{uid}, $nobody[2], "$mpm: and the uid is still user='s";

    # user= alone: group= defaults to Apache's Group (mod_wsgi), and the
    # user's memberships come from initgroups().
    $j = get_json('/ini');
    is_deeply [@$j{qw(uid gid egid)}], [$uid_ini, $apache_gid, $apache_gid],
        "$mpm: user= alone: that uid, and Apache's Group as gid (not the user's own group)"
        or diag explain $j;
    is_deeply $j->{groups}, [sort { $a <=> $b } $apache_gid, $gid_a],
        "$mpm: and getgroups() is initgroups(user, Apache's Group): that gid and the user's group a";

    # Neither: Apache's User and Group.
    $j = get_json('/dflt');
    is_deeply [@$j{qw(uid euid gid egid)}],
        [$apache_uid, $apache_uid, $apache_gid, $apache_gid],
        "$mpm: no user=/group=: Apache's User and Group ($apache_user)"
        or diag explain $j;
    is_deeply $j->{groups}, initgroups_of($apache_user, $apache_gid),
        "$mpm: with $apache_user\'s initgroups()";
    isnt $j->{pid}, $parent, "$mpm: (served by a daemon, not the parent)";

    # setuid() fails (EAGAIN): the daemon logs it and exits, never serving
    # (CVE-2014-8583: mod_wsgi once went on as root); the supervisor keeps
    # restarting it, each time after a longer delay.
    my @codes;
    for (1 .. 2) {
        my ($code, $body) = get('/fail');
        push @codes, $code;
        unlike $body, qr/"uid"/,
            "$mpm: a request for the group whose setuid() fails is never answered by the app";
    }
    ok !(grep { !/^50[234]$/ } @codes),
        "$mpm: it gets a 502, 503 or 504 (" . join(',', @codes) . ")";
    my @delays;
    wait_for(15, sub { @delays = backoff_delays('fail', $log_from); @delays >= 4 });
    cmp_ok scalar(@delays), '>=', 4,
        "$mpm: the supervisor restarted the failing daemon (WSL00181 lines)";
    my @grows = grep { $delays[$_] > $delays[$_ - 1] } 1 .. $#delays;
    is scalar(@grows), $#delays,
        "$mpm: each time after a longer delay (" . join(' ', @delays) . " s): no fork storm";
    my $log = substr(log_text(), $log_from);
    my @fatal = grep /WSL00186: .* of WSGIDaemonProcess fail: /, split /\n/, $log;
    cmp_ok scalar(@fatal), '>=', 4, "$mpm: each attempt logged WSL00186";
    is scalar(grep { /setuid\($uid_fail\) failed/ && /Resource temporarily unavailable/ } @fatal),
        scalar(@fatal),
        "$mpm: naming setuid($uid_fail) and its EAGAIN"
        or diag join "\n", @fatal[0 .. ($#fatal < 3 ? $#fatal : 3)];
    unlike $log, qr/WSL00189: daemon process \d+ of WSGIDaemonProcess fail \(/,
        "$mpm: and no such daemon ever started serving (no WSL00189)";

    # home= a directory the user cannot enter: the same (CVE-2014-0240's
    # shape: a daemon must not run on from the wrong directory).
    my ($code, $body) = get('/nohome');
    ok $code >= 500 && $body !~ /"uid"/,
        "$mpm: a daemon that cannot enter home= serves nothing ($code)";
    $log = substr(log_text(), $log_from);
    ok scalar(grep { /Permission denied/ } grep
            /WSL00186: .* of WSGIDaemonProcess nohome: cannot change to its home directory '\Q$dir\E\/locked'/,
            split /\n/, $log),
        "$mpm: WSL00186 names the chdir to home= and its EACCES";
    unlike $log, qr/WSL00189: daemon process \d+ of WSGIDaemonProcess nohome \(/,
        "$mpm: and it never started serving";

    # The socket: a directory only Apache's user can reach, the socket its.
    my @dirs = grep { -d } glob "$dir/wsgi-$mpm.$parent.u*";
    is "@dirs", "$dir/wsgi-$mpm.$parent.u$apache_uid",
        "$mpm: one socket directory, named for uid $apache_uid";
    my @dst = lstat($dirs[0] // '/nonexistent');
    is sprintf('%04o %s', ($dst[2] // 0) & 07777, $dst[4] // ''),
        "0700 $apache_uid", "$mpm: the socket directory is mode 0700, owned by $apache_user";
    my @socks = glob(($dirs[0] // '/nonexistent') . '/*.sock');
    is scalar(@socks), scalar(@groups), "$mpm: one socket per group";
    is join(',', map { my @s = lstat $_; sprintf '%04o:%d', $s[2] & 07777, $s[4] } @socks),
        join(',', map { "0600:$apache_uid" } @socks),
        "$mpm: each socket is mode 0600, owned by $apache_user";

    # A peer that is not Apache's user (root here) is refused, unanswered.
    my ($nob_sock) = grep { m{/\d+\.$group_index{nob}\.sock$} } @socks;
    my $c = IO::Socket::UNIX->new(Peer => $nob_sock // '', Type => IO::Socket::UNIX::SOCK_STREAM());
    ok $c, "$mpm: root can connect() to the group's socket (the kernel lets root in)";
    my $got = 'no connection';
    if ($c) {
        # Whatever bytes: the daemon must not read a request from this peer.
        syswrite $c, "\0" x 64;
        $got = '';
        my $sel = IO::Select->new($c);
        my $deadline = time + 5;
        while (time < $deadline && $sel->can_read($deadline - time)) {
            my $n = sysread $c, my $buf, 4096;
            last unless $n;
            $got .= $buf;
        }
        close $c;
    }
    is length($got), 0, "$mpm: the daemon closes a root peer's connection without a byte of response";
    ok wait_for(5, sub { substr(log_text(), $log_from) =~
            /WSL00188: WSGIDaemonProcess nob: refused a connection from uid 0 \(pid $$\)/ }),
        "$mpm: and logs WSL00188 naming uid 0 and this pid";
    ($code) = get('/nob');
    is $code, 200, "$mpm: the group still serves Apache's children afterwards";

    # apache2 -k stop: no daemon left, none killed for lingering, those in
    # a back-off delay included (a failing group has one of 3.2 s by now).
    ok wait_for(15, sub { grep { $_ >= 3.2 } backoff_delays('fail', $log_from) }),
        "$mpm: (the failing group is in a back-off delay of 3.2 s or more)";
    my @daemons = daemon_pids($parent);
    cmp_ok scalar(@daemons), '>=', 5, "$mpm: (the daemons found: @daemons)";
    my $t0 = time;
    my $out = `$httpd -f "$conf" -k stop 2>&1`;
    is $?, 0, "$mpm: apache2 -k stop" or diag $out;
    my $gone = wait_for(2.5, sub { !grep { alive($_) } @daemons });
    my $stop_secs = time - $t0;
    my @left = grep { alive($_) } @daemons;
    ok $gone, sprintf("$mpm: every daemon exits within 2.5 s of the stop%s",
                      @left ? " (left: @left)" : sprintf(' (%.2f s)', $stop_secs))
        or diag map { "$_: " . cmdline($_) . "\n" } @left;
    ok wait_for(20, sub { !alive($parent) }), "$mpm: and the parent ends";
    @left = grep { alive($_) } @daemons;
    is "@left", '', "$mpm: no daemon process is left after it";
    kill_and_wait(@left) if @left;
    $log = substr(log_text(), $log_from);
    unlike $log, qr/WSL00183/,
        "$mpm: every daemon stopped on SIGTERM (none had to be killed: WSL00183)";
    delete $apache_pids{$parent};

    # SIGKILL of the parent: the daemons go within 2 s (the death signal),
    # those in a back-off delay too.
    $log_from = length log_text();
    ($parent) = start_apache($conf, $log_from);
    ok wait_for(15, sub { grep { $_ >= 3.2 } backoff_delays('fail', $log_from) }),
        "$mpm: (restarted; the failing group is in a back-off delay of 3.2 s or more)";
    @daemons = daemon_pids($parent);
    my @others = grep { my $p = $_; !grep { $_ == $p } @daemons } children_of($parent);
    cmp_ok scalar(@daemons), '>=', 5, "$mpm: (the daemons found: @daemons)";
    kill 'KILL', $parent;
    $t0 = time;
    $gone = wait_for(2, sub { !grep { alive($_) } @daemons });
    @left = grep { alive($_) } @daemons;
    ok $gone, sprintf("$mpm: parent SIGKILLed: every daemon exited within 2 s%s",
                      @left ? " (left: @left)" : sprintf(' (%.2f s)', time - $t0))
        or diag map { "$_: " . cmdline($_) . "\n" } @left;
    # Apache's own children, orphaned: ours to end.
    kill_and_wait(@left, @others);
    delete $apache_pids{$parent};
}

for my $mpm (@mpms) {
    note "=== $mpm MPM ===";
    eval { check_mpm($mpm); 1 } or fail("$mpm: $@");
    stop_leftovers();
}

done_testing;
