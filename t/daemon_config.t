# daemon_config.t: WSGIDaemonProcess and WSGISocketPrefix as configuration
# (src/config/daemons.c), before any daemon runs.  (a) A mod_wsgi-style
# line with every option of mod_wsgi 4.9.4 passes configtest, here and
# with Debian's mod_wsgi.  (b) Each option with a bad value, an unknown
# option, a missing '=', an option given twice, a duplicate group name
# (vhosts included), users and groups that do not exist, user=root,
# processes=0 and threads=0 each fail configtest with a message naming
# the directive, the group and what is wrong.  (c) A started server says
# once per group which options are accepted but not acted on yet
# (WSL00170), exactly those, again after a graceful restart (with no
# duplicate-name error: one configuration generation at a time), and gives the groups Apache's User
# and Group read after the whole configuration (WSL00172, debug).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use WSLTest qw(t_ok wait_until);
use WSLServer ();

# Who exists here: the test's own user and group, and ids nobody has.
my $me = getpwuid($>) // die "no passwd entry for uid $>";
my $my_gid = (split ' ', $))[0];
my $my_group = getgrgid($my_gid) // die "no group entry for gid $my_gid";
my ($free_uid) = grep { !defined getpwuid($_) } reverse 50000 .. 59999;
my ($free_gid) = grep { !defined getgrgid($_) } reverse 50000 .. 59999;
my $no_user = 'wsl-no-such-user';
my $no_group = 'wsl-no-such-group';
die "user $no_user exists" if defined getpwnam($no_user);
die "group $no_group exists" if defined getgrnam($no_group);

# mod_wsgi 4.9.4's options, in the order of its wsgi_add_daemon_process.
my @MW494 = qw(user group supplementary-groups processes threads umask
    chroot home lang locale python-home python-path python-eggs stack-size
    maximum-requests startup-timeout shutdown-timeout deadlock-timeout
    inactivity-timeout request-timeout graceful-timeout eviction-timeout
    restart-interval connect-timeout socket-timeout queue-timeout
    listen-backlog display-name send-buffer-size receive-buffer-size
    header-buffer-size response-buffer-size response-socket-timeout
    socket-user script-user script-group cpu-time-limit cpu-priority
    memory-limit virtual-memory-limit server-metrics newrelic-config-file
    newrelic-environment);
# Options whose effect is not built yet (said at start-up, WSL00170).
my @NOT_ACTED = qw(script-user script-group chroot
    response-buffer-size
    response-socket-timeout newrelic-config-file newrelic-environment);
my @SECONDS = qw(startup-timeout shutdown-timeout deadlock-timeout
    inactivity-timeout request-timeout graceful-timeout eviction-timeout
    restart-interval connect-timeout socket-timeout queue-timeout
    response-socket-timeout);

# --- (a) every option ---------------------------------------------------
# mod_wsgi 4.9.4's options, each once, as a real site would write them.
# script-user and script-group exclude each other (as in mod_wsgi): the
# second line has the other; chroot= needs Apache started as root, which
# Apache::Test never is (it is checked under (b)).
my %full = (
    'user' => $me, 'group' => $my_group,
    'supplementary-groups' => "$my_group,#$my_gid",
    'processes' => 2, 'threads' => 5, 'umask' => '0027',
    'home' => '/tmp', 'lang' => 'en_US.UTF-8', 'locale' => 'en_US.UTF-8',
    'python-home' => '/usr', 'python-path' => '/tmp/a:/tmp/b',
    'python-eggs' => '/tmp/eggs', 'stack-size' => 524288,
    'maximum-requests' => 1000, 'startup-timeout' => 15,
    'shutdown-timeout' => 5, 'deadlock-timeout' => 60,
    'inactivity-timeout' => 0, 'request-timeout' => 60,
    'graceful-timeout' => 15, 'eviction-timeout' => 0,
    'restart-interval' => 0, 'connect-timeout' => 15,
    'socket-timeout' => 60, 'queue-timeout' => 45,
    'listen-backlog' => 100, 'display-name' => "'%{GROUP}'",
    'send-buffer-size' => 65536, 'receive-buffer-size' => 65536,
    'header-buffer-size' => 32768, 'response-buffer-size' => 131072,
    'response-socket-timeout' => 30, 'socket-user' => "#$>",
    'script-user' => $me, 'cpu-time-limit' => 3600, 'cpu-priority' => 5,
    'memory-limit' => 1073741824, 'virtual-memory-limit' => 2147483648,
    'server-metrics' => 'On',
    'newrelic-config-file' => '"/tmp/new relic.ini"',
    'newrelic-environment' => 'production',
);
my $full_line = join ' ', 'WSGIDaemonProcess wsl-full',
    map { "$_=$full{$_}" } sort keys %full;
# An empty supplementary-groups= (only the primary group) goes last:
# mod_wsgi would read the next option as its value.
my $second_line = "WSGIDaemonProcess wsl-full-2 script-group=$my_group "
    . "processes=1 threads=1 display-name=wsl-two supplementary-groups=";

# --- (b) what fails -------------------------------------------------------
# [ the options (or a whole snippet, then named by a third element), the
#   message after "WSGIDaemonProcess wsl-bad: " ]
my @bad = (
    ['processes=0', qr/processes=0: not a whole number from 1 to/],
    ['processes=-2', qr/processes=-2: not a whole number from 1 to/],
    ['processes=two', qr/processes=two: not a whole number/],
    ['processes=1.5', qr/processes=1\.5: not a whole number/],
    ['threads=0', qr/threads=0: not a whole number from 1 to 65533/],
    ['threads=65534', qr/threads=65534: not a whole number from 1 to 65533/],
    ['threads=15x', qr/threads=15x: not a whole number/],
    ['threads=', qr/threads=: not a whole number/],
    ["user=$no_user", qr/user=\Q$no_user\E: no such user/],
    ['user=root', qr/user=root: a daemon process never runs as root/],
    ['user=#0', qr/user=#0: a daemon process never runs as root/],
    ["user=#$free_uid", qr/user=#$free_uid: no user has that uid/],
    ['user=#abc', qr/user=#abc: not a user name or #uid/],
    ['user=', qr/user=: a user name or #uid is needed/],
    ["group=$no_group", qr/group=\Q$no_group\E: no such group/],
    ['group=#-5', qr/group=#-5: not a group name or #gid/],
    ["supplementary-groups=$my_group,$no_group",
        qr/supplementary-groups=\Q$my_group,$no_group\E: '\Q$no_group\E': no such group/],
    ["supplementary-groups=$my_group,,$my_group",
        qr/supplementary-groups=.*: a group name is empty/],
    ['umask=0999', qr/umask=0999: not an octal umask from 0 to 0777/],
    ['umask=01000', qr/umask=01000: not an octal umask/],
    ['umask=u=rwx', qr/umask=u=rwx: not an octal umask/],
    ['chroot=jail', qr/chroot=jail: not an absolute path/],
    ($> == 0 ? () : (['chroot=/', qr/chroot=\/: only possible when Apache is started as root/])),
    ['home=relative/dir', qr/home=relative\/dir: not an absolute path/],
    ['stack-size=0', qr/stack-size=0: not a number of bytes from \d+/],
    ['stack-size=1024', qr/stack-size=1024: not a number of bytes from \d+/],
    ['stack-size=512k', qr/stack-size=512k: not a number of bytes/],
    ['maximum-requests=-1', qr/maximum-requests=-1: not a whole number from 0 to/],
    ['maximum-requests=lots', qr/maximum-requests=lots: not a whole number/],
    (map { ["$_=-1", qr/\Q$_\E=-1: not a whole number of seconds from 0 to 31536000/] } @SECONDS),
    (map { ["$_=10s", qr/\Q$_\E=10s: not a whole number of seconds/] } @SECONDS),
    ['request-timeout=31536001', qr/request-timeout=31536001: not a whole number of seconds from 0 to 31536000/],
    ['listen-backlog=-1', qr/listen-backlog=-1: not a whole number from 0 to/],
    ['send-buffer-size=511', qr/send-buffer-size=511: not 0 \(the default\) or a number of bytes from 512 to/],
    ['receive-buffer-size=1', qr/receive-buffer-size=1: not 0 \(the default\) or a number of bytes from 512 to/],
    ['header-buffer-size=8191', qr/header-buffer-size=8191: not 0 \(the default\) or a number of bytes from 8192 to/],
    ['response-buffer-size=65535', qr/response-buffer-size=65535: not 0 \(the default\) or a number of bytes from 65536 to/],
    ['header-buffer-size=32k', qr/header-buffer-size=32k: not 0 \(the default\) or a number of bytes/],
    ["socket-user=$no_user", qr/socket-user=\Q$no_user\E: no such user/],
    ["socket-user=#$free_uid", qr/socket-user=#$free_uid: no user has that uid/],
    ["script-user=$no_user", qr/script-user=\Q$no_user\E: no such user/],
    ["script-group=$no_group", qr/script-group=\Q$no_group\E: no such group/],
    ["script-group=#$free_gid", qr/script-group=#$free_gid: no group has that gid/],
    ["script-user=$me script-group=$my_group", qr/only one of script-user and script-group may be given/],
    ['cpu-time-limit=-1', qr/cpu-time-limit=-1: not a whole number from 0 to/],
    ['cpu-priority=21', qr/cpu-priority=21: not a whole number from -20 to 20/],
    ['cpu-priority=-21', qr/cpu-priority=-21: not a whole number from -20 to 20/],
    ['cpu-priority=high', qr/cpu-priority=high: not a whole number/],
    ['memory-limit=-1', qr/memory-limit=-1: not a number of bytes \(0 or more\)/],
    ['virtual-memory-limit=1G', qr/virtual-memory-limit=1G: not a number of bytes/],
    ['server-metrics=maybe', qr/server-metrics=maybe: not On or Off/],
    ['threads=2 bogus=1', qr/unknown option 'bogus'/],
    ['Threads=2', qr/unknown option 'Threads'/],
    ['threads', qr/'threads' is not of the form option=value/],
    ['threads=2 =3', qr/'=3' is not of the form option=value/],
    ['threads=1 processes=2 threads=3', qr/option 'threads' given twice/],
    ["WSGIDaemonProcess wsl-bad\nWSGIDaemonProcess wsl-bad threads=1\n",
        qr/the name is already used by the WSGIDaemonProcess at \S+:\d+ \(names are unique across the server, virtual hosts included\)/,
        'a group name used twice in the main server'],
    ["WSGIDaemonProcess wsl-bad\n<VirtualHost 127.0.0.1:80>\n    ServerName other.example\n    WSGIDaemonProcess wsl-bad\n</VirtualHost>\n",
        qr/the name is already used by the WSGIDaemonProcess at/,
        'a group name of the main server used again in a vhost'],
    ["<VirtualHost 127.0.0.1:80>\n    WSGIDaemonProcess wsl-bad\n</VirtualHost>\n<VirtualHost 127.0.0.2:80>\n    WSGIDaemonProcess wsl-bad\n</VirtualHost>\n",
        qr/the name is already used by the WSGIDaemonProcess at/,
        'a group name used in two vhosts'],
);
# Failures with messages of their own (not "WSGIDaemonProcess wsl-bad: ").
my @bad_other = (
    ['WSGIDaemonProcess without a name', "WSGIDaemonProcess\n",
        qr/WSGIDaemonProcess takes a process group name/],
    ['WSGIDaemonProcess %{GLOBAL}', "WSGIDaemonProcess %{GLOBAL} threads=1\n",
        qr/WSGIDaemonProcess %\{GLOBAL\}: a process group name cannot begin with '%\{'/],
    ['WSGIDaemonProcess in a Directory', "<Directory /tmp>\n    WSGIDaemonProcess wsl-dir\n</Directory>\n",
        qr/WSGIDaemonProcess not allowed in <Directory> context/],
    ['WSGISocketPrefix in a VirtualHost',
        "<VirtualHost 127.0.0.1:80>\n    WSGISocketPrefix run/wsgi\n</VirtualHost>\n",
        qr/WSGISocketPrefix cannot occur within <VirtualHost> section/],
    ['WSGISocketPrefix ""', "WSGISocketPrefix \"\"\n",
        qr/WSGISocketPrefix takes one argument/],
);

plan tests => 4 + 2 * @bad + @bad_other + 12, need_module 'mod_wsgi_lite.c';

{
    my ($rc, $out) = WSLServer->configtest("$full_line\n$second_line\nWSGISocketPrefix run/wsgi\n");
    ok t_cmp($rc, 0, 'every WSGIDaemonProcess option of mod_wsgi 4.9.4, with good values, passes configtest')
        or t_debug("$full_line\n$out");
    ok t_cmp($out, qr/Syntax OK/, '(control) configtest says Syntax OK');
    my %used = map { $_ => 1 } keys %full, 'script-group', 'chroot';
    ok t_cmp(join(' ', grep { !$used{$_} } @MW494) . '|' . join(' ', grep { my $o = $_; !grep { $_ eq $o } @MW494 } sort keys %used),
             '|', '(setup) the lines use the 43 options of mod_wsgi 4.9.4 (chroot under (b)), and no other');
    # mod_wsgi refuses an option it does not know: its configtest shows
    # the names are its own.
    if (WSLServer::mod_wsgi_so()) {
        ($rc, $out) = WSLServer->configtest("$full_line\n$second_line\nWSGISocketPrefix run/wsgi\n",
                                            module => 'mod_wsgi');
        ok t_cmp($rc, 0, "(control) the same lines pass configtest with Debian's mod_wsgi 4.9.4")
            or t_debug($out);
    }
    else {
        skip 'no Debian mod_wsgi (libapache2-mod-wsgi-py3)', 0;
    }
}

for my $case (@bad) {
    my ($what, $why, $name) = @$case;
    my $snippet = $what =~ /\n/ ? $what : "WSGIDaemonProcess wsl-bad $what\n";
    $name //= "WSGIDaemonProcess wsl-bad $what";
    my ($rc, $out) = WSLServer->configtest($snippet);
    ok t_ok($rc != 0, "configtest fails for $name");
    ok t_cmp($out, qr/WSGIDaemonProcess wsl-bad: $why/,
             "and the message names the directive, the group and what is wrong ($name)");
}
for my $case (@bad_other) {
    my ($name, $snippet, $why) = @$case;
    my ($rc, $out) = WSLServer->configtest($snippet);
    ok t_ok($rc != 0 && scalar($out =~ $why), "configtest fails for $name, saying why")
        or t_debug("rc $rc: $out");
}

# --- (c) a started server -------------------------------------------------
{
    # Apache's User and Group come after the groups that take them: they
    # are read once the whole configuration is (as the suite runs it,
    # Apache is not root, so they only say what a daemon would run as).
    my $apache_user = defined getpwnam('nobody') ? 'nobody' : $me;
    my $apache_uid = getpwnam($apache_user);
    my $apache_group = defined getgrnam('nogroup') ? 'nogroup' : $my_group;
    my $apache_gid = getgrnam($apache_group);
    # maximum-requests, restart-interval and queue-timeout are acted on.
    my @a_not_acted = ('script-group=' . $my_group);
    my @c_opts = grep { $_ ne 'chroot' && $_ ne 'script-group' } @NOT_ACTED;
    my %c_value = map { $_ => ($_ eq 'script-user' ? $me
                               : /newrelic-config-file/ ? '/tmp/newrelic.ini'
                               : /newrelic-environment/ ? 'staging'
                               : /response-buffer-size/ ? 65536 : 7) } @c_opts;
    my $conf = <<"CONF";
LogLevel info wsgi_lite:debug
WSGIDaemonProcess wsl-a processes=1 threads=2 maximum-requests=500 restart-interval=3600 display-name=%{GROUP} queue-timeout=45 script-group=$my_group socket-timeout=10
WSGIDaemonProcess wsl-c @{[ map { "$_=$c_value{$_}" } @c_opts ]}
<VirtualHost 127.0.0.1:80>
    ServerName wsl-vhost.example
    WSGIDaemonProcess wsl-b user=$me group=$my_group threads=3 listen-backlog=50 shutdown-timeout=3 connect-timeout=5
</VirtualHost>
User $apache_user
Group $apache_group
CONF
    my $srv = eval { WSLServer->start(conf => $conf) };
    ok t_ok($srv, '(setup) a server with three daemon groups starts') or t_debug($@);
    my $lines = sub { my $re = shift; grep /$re/, split /\n/, ($srv ? $srv->log_text : '') };
    my @a = $lines->(qr/WSL00170: WSGIDaemonProcess wsl-a:/);
    ok t_cmp(scalar(@a), 1, 'WSL00170 is logged once for wsl-a (the real start, not the checking pass)');
    ok t_cmp($a[0] // 'no WSL00170 line for wsl-a',
             qr/WSL00170: WSGIDaemonProcess wsl-a: accepted, not acted on yet: \Q@a_not_acted\E$/,
             'it lists exactly the not-acted options of wsl-a, as written, in order');
    my @c = $lines->(qr/WSL00170: WSGIDaemonProcess wsl-c:/);
    my $c_list = join ' ', map { "$_=$c_value{$_}" } @c_opts;
    ok t_cmp(scalar(@c), 1, 'WSL00170 is logged once for wsl-c');
    ok t_cmp($c[0] // 'no WSL00170 line for wsl-c',
             qr/WSL00170: WSGIDaemonProcess wsl-c: accepted, not acted on yet: \Q$c_list\E$/,
             'wsl-c: every not-acted option (but chroot and script-group) is listed');
    ok t_cmp(scalar($lines->(qr/WSL00170: WSGIDaemonProcess wsl-b/)), 0,
             'a group with only acted-on options (wsl-b, in a vhost) gets no WSL00170 line');
    ok t_cmp(scalar($lines->(qr/WSL00050/)), 0, 'the old WSL00050 warning is gone');
    my ($a_res) = $lines->(qr/WSL00172: WSGIDaemonProcess wsl-a:/);
    ok t_cmp($a_res // 'no WSL00172 line for wsl-a',
             qr/user \Q$apache_user\E \(uid $apache_uid\), group \Q$apache_group\E \(gid $apache_gid\), socket owner \Q$apache_user\E \(uid $apache_uid\), 1 process\(es\) of 2 thread\(s\)/,
             "no user=/group=: Apache's User and Group, written after the group, are its own");
    my ($b_res) = $lines->(qr/WSL00172: WSGIDaemonProcess wsl-b:/);
    my $my_uid = $>;
    ok t_cmp($b_res // 'no WSL00172 line for wsl-b',
             qr/user \Q$me\E \(uid $my_uid\), group \Q$my_group\E \(gid $my_gid\), socket owner \Q$apache_user\E \(uid $apache_uid\), 1 process\(es\) of 3 thread\(s\)/,
             'user= and group= are resolved to their ids; the socket stays Apache\'s User\'s');

    # A graceful restart reads the configuration again: the groups of the
    # last generation must be gone (else every name would be a duplicate;
    # mod_so also reloads the module, which resets them too), and the
    # note comes once more, for the new generation.
    my $before = $srv ? $srv->pid : 0;
    $srv->signal('USR1') if $srv;
    my $again = wait_until(sub { scalar($lines->(qr/WSL00170: WSGIDaemonProcess wsl-a:/)) >= 2 }, 30);
    ok t_ok($again && $srv->wait_ready(30),
            'after a graceful restart the server serves again and logs WSL00170 for wsl-a once more');
    ok t_cmp(scalar($lines->(qr/already used by the WSGIDaemonProcess/)) + scalar($lines->(qr/AH00526/)),
             0, 'no duplicate-name error on the restart (one generation at a time)');
    my $secs = $srv ? $srv->stop : undef;
    ok t_ok(defined $secs && $before, '(cleanup) the server stopped');
}
