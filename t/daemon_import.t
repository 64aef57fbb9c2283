# daemon_import.t: WSGIImportScript's process-group= (mod_wsgi's
# `WSGIImportScript file process-group=NAME application-group=NAME`).
# (a) A script for a daemon group runs in each of that group's processes
# as it starts, before its first request, and its module globals are what
# that request finds; Apache's children and the other group's processes
# never run it (a marker file per pid that ran it).  (b) A script for
# process-group=%{GLOBAL} runs in Apache's children only, not in any
# daemon.  (c) A process-group= naming no WSGIDaemonProcess, or one of
# another virtual host, fails configtest (WSL00053); one defined after the
# import line, or in the same virtual host, does not.  (d) With
# WSGIRestrictEmbedded On, a daemon group's import script does not make
# Apache's children start Python (mod_wsgi's rule).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use File::Temp ();
use JSON::PP ();
use WSLTest qw(t_ok wait_until);
use WSLServer ();

plan tests => 17, need_module 'mod_wsgi_lite.c';

my $tmp = File::Temp->newdir('wsl-daemon-import-XXXXXX', TMPDIR => 1);
my $dir = "$tmp";
my $marks = "$dir/marks";
mkdir $marks or die "$marks: $!";
# display-name prefix, unique to this run; short: a display-name shows
# only in argv[0]'s length (as mod_wsgi's does), 17 bytes for apache2.
my $name = "wi$$";

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

# The daemon group's import script, also mounted as its application: the
# first request in each process must find the globals the import set.
write_file("$dir/imp.wsgi", <<PY);
import builtins, json, os, sys, time, types

_count = sys.modules.setdefault('wsl_imp_count', types.ModuleType('wsl_imp_count'))
_count.n = getattr(_count, 'n', 0) + 1
PRELOADED = {'pid': os.getpid(), 'time': time.time(), 'executions': _count.n}
builtins.wsl_imp_preloaded = PRELOADED
with open(os.path.join('$marks', 'imp.%d' % os.getpid()), 'w') as f:
    f.write(str(PRELOADED))
first_request = None


def application(environ, start_response):
    global first_request
    if first_request is None:
        first_request = time.time()
    body = json.dumps({'preloaded': PRELOADED, 'first_request': first_request,
                       'executions': _count.n, 'pid': os.getpid(),
                       'process_group': environ.get('mod_wsgi.process_group')})
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body.encode()]
PY
# The import script of Apache's children (process-group=%{GLOBAL}).
write_file("$dir/emb.wsgi", <<PY);
import builtins, os, time
builtins.wsl_emb_preloaded = {'pid': os.getpid(), 'time': time.time()}
with open(os.path.join('$marks', 'emb.%d' % os.getpid()), 'w') as f:
    f.write('x')
PY
# What a process's %{GLOBAL} interpreter holds of either import.
write_file("$dir/check.wsgi", <<'PY');
import builtins, json, os

def application(environ, start_response):
    body = json.dumps({
        'pid': os.getpid(),
        'process_group': environ.get('mod_wsgi.process_group'),
        'imp': getattr(builtins, 'wsl_imp_preloaded', None),
        'emb': getattr(builtins, 'wsl_emb_preloaded', None),
    })
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body.encode()]
PY

# WSLServer's servers have no User line: Apache keeps the test's uid.
my $conf = <<CONF;
WSGISocketPrefix \@TMPDIR\@/wsgi
WSGIApplicationGroup %{GLOBAL}
WSGIDaemonProcess imp processes=2 threads=2 display-name=$name-imp
WSGIDaemonProcess other processes=1 threads=2 display-name=$name-other
WSGIImportScript "$dir/imp.wsgi" process-group=imp application-group=%{GLOBAL}
WSGIImportScript "$dir/emb.wsgi" process-group=%{GLOBAL} application-group=%{GLOBAL}
WSGIScriptAlias /imp "$dir/imp.wsgi"
WSGIScriptAlias /other "$dir/check.wsgi"
WSGIScriptAlias /emb "$dir/check.wsgi"
<Location /imp>
    WSGIProcessGroup imp
</Location>
<Location /other>
    WSGIProcessGroup other
</Location>
CONF

# Live processes whose command line (the display-name) starts with $prefix.
sub named_pids {
    my ($prefix) = @_;
    opendir my $dh, '/proc' or return;
    my @pids;
    for my $p (grep /^\d+$/, readdir $dh) {
        open my $fh, '<', "/proc/$p/cmdline" or next;
        local $/;
        my $cmd = <$fh> // '';
        close $fh;
        push @pids, $p if index($cmd, $prefix) == 0;
    }
    closedir $dh;
    return sort { $a <=> $b } @pids;
}

sub marks {
    my ($kind) = @_;
    opendir my $dh, $marks or return;
    my @pids = map { /^\Q$kind\E\.(\d+)$/ ? $1 : () } readdir $dh;
    closedir $dh;
    return sort { $a <=> $b } @pids;
}

sub json_of {
    my ($code, $body) = @_;
    return $code == 200 ? (eval { JSON::PP::decode_json($body) } || {}) : {};
}

# --- (a), (b) ------------------------------------------------------------
{
    # Its own daemon groups and embedded requests beside them, in the
    # suite's daemon mode too.
    my $srv = WSLServer->start(conf => $conf, embedded => 1);
    my (@bad, %served);
    for (1 .. 12) {
        my $j = json_of($srv->get('/imp'));
        my $p = $j->{preloaded} || {};
        $served{ $j->{pid} // 'none' }++;
        push @bad, ($j->{pid} // 'none')
            unless ($j->{process_group} // '') eq 'imp'
                && ($p->{pid} // -1) == ($j->{pid} // -2)
                && ($p->{time} // 1e99) <= ($j->{first_request} // 0)
                && ($j->{executions} // 0) == 1;
    }
    ok t_cmp(join(',', @bad), '',
             'process-group=imp: every request in group imp finds the globals the import set, '
             . 'set before its process\'s first request, by one run of the script')
        or WSLTest::diag(join "\n", grep /WSL\d+/, split /\n/, $srv->log_text);
    my @imp = wait_until(sub { my @p = named_pids("$name-imp"); @p == 2 ? \@p : undef }, 15);
    @imp = @{ $imp[0] || [] };
    ok t_cmp(scalar(@imp), 2, '(setup) the two processes of group imp are running');
    # A process may still be starting (its import runs before it takes
    # its first request, and the other may have served all twelve).
    wait_until(sub { join(',', marks('imp')) eq join(',', @imp) }, 15);
    ok t_cmp(join(',', marks('imp')), join(',', @imp),
             'the import ran in each process of group imp, and in no other process');
    # The server's processes less the daemons (display-name rewrites only
    # argv[0], as mod_wsgi's does: the config path still shows in both).
    my %named = map { $_ => 1 } named_pids($name);
    my @children = grep { !$named{$_} } $srv->children;
    my %child = map { $_ => 1 } @children;
    ok t_ok(@children && !grep({ $child{$_} } marks('imp')),
            "Apache's children (@children) did not run the daemon group's import");

    my $j = json_of($srv->get('/other'));
    ok t_cmp($j->{process_group}, 'other', '(setup) a request in the other daemon group');
    ok t_ok(!defined $j->{imp} && !defined $j->{emb},
            'the other group ran neither import (not its process group)');
    my @other = named_pids("$name-other");
    ok t_ok(@other == 1 && !grep({ $_ == $other[0] } marks('imp'), marks('emb')),
            'and left no marker')
        or WSLTest::diag("other: @other; imp: @{[marks('imp')]}; emb: @{[marks('emb')]}");

    $j = json_of($srv->get('/emb'));
    ok t_cmp($j->{process_group}, '', '(setup) an embedded request');
    ok t_ok(!defined $j->{imp}, 'an Apache child did not run the import of group imp');
    ok t_cmp(($j->{emb} || {})->{pid}, $j->{pid},
             'process-group=%{GLOBAL}: the import ran in the Apache child');
    my %daemon = map { $_ => 1 } @imp, @other;
    my @emb = marks('emb');
    ok t_ok(@emb && !grep({ $daemon{$_} } @emb),
            'and in no daemon process (emb markers: ' . join(',', @emb) . ')');
    $srv->stop;
}

# --- (c) configtest --------------------------------------------------------
{
    my ($code, $out) = WSLServer->configtest(
        "WSGIImportScript \"$dir/imp.wsgi\" process-group=nosuch application-group=%{GLOBAL}\n");
    ok t_ok($code != 0 && $out =~ /WSL00053: WSGIImportScript '\Q$dir\E\/imp.wsgi' \(.*:\d+\): process-group=nosuch: no WSGIDaemonProcess of that name/,
            'process-group= naming no WSGIDaemonProcess fails configtest (WSL00053)')
        or WSLTest::diag($out);

    ($code, $out) = WSLServer->configtest(
        "WSGIImportScript \"$dir/imp.wsgi\" process-group=late application-group=%{GLOBAL}\n"
        . "WSGIDaemonProcess late threads=1\n");
    ok t_cmp($code, 0, 'a group defined after the WSGIImportScript line is found (mod_wsgi wants it first)')
        or WSLTest::diag($out);

    my $vhosts = <<CONF;
<VirtualHost *:80>
    ServerName a.example
    WSGIDaemonProcess vha threads=1
    WSGIImportScript "$dir/imp.wsgi" process-group=vha application-group=%{GLOBAL}
</VirtualHost>
CONF
    ($code, $out) = WSLServer->configtest($vhosts);
    ok t_cmp($code, 0, "a virtual host's import for its own group passes")
        or WSLTest::diag($out);

    ($code, $out) = WSLServer->configtest($vhosts . <<CONF);
<VirtualHost *:80>
    ServerName b.example
    WSGIImportScript "$dir/imp.wsgi" process-group=vha application-group=%{GLOBAL}
</VirtualHost>
CONF
    ok t_ok($code != 0 && $out =~ /WSL00053: .*process-group=vha: that WSGIDaemonProcess \(.*\) belongs to another virtual host/,
            "another virtual host's group fails configtest (WSL00053), as mod_wsgi's 'not accessible'")
        or WSLTest::diag($out);

}

# --- (d) WSGIRestrictEmbedded On --------------------------------------------
{
    my $srv = WSLServer->start(embedded => 1, conf => <<CONF);
WSGISocketPrefix \@TMPDIR\@/wsgi
WSGIRestrictEmbedded On
WSGIDaemonProcess imp processes=1 threads=1 display-name=$name-r
WSGIImportScript "$dir/check.wsgi" process-group=imp application-group=%{GLOBAL}
WSGIScriptAlias /imp "$dir/check.wsgi"
<Location /imp>
    WSGIProcessGroup imp
</Location>
CONF
    my $j = json_of($srv->get('/imp'));
    ok t_cmp($j->{process_group}, 'imp', '(setup) RestrictEmbedded On: the daemon serves');
    my @notice = grep /WSL00162/, split /\n/, $srv->log_text;
    ok t_ok(@notice && $notice[-1] =~ /Python is not started in Apache's children/,
            "a daemon group's WSGIImportScript does not make Apache's children start Python")
        or WSLTest::diag(@notice ? $notice[-1] : 'no WSL00162 line');
    $srv->stop;
}
