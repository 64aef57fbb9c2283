# proc_fork.t: os.fork() from an application, in a process with
# sub-interpreters.  CPython 3.11 cannot fork a sub-interpreter, or a main
# interpreter with sub-interpreters beside it (the forked child hangs or
# dies with a Fatal Python error), so os.fork and os.forkpty fail fast in
# the parent with a RuntimeError that says why and points to subprocess,
# which keeps working.  With only the main interpreter in the process,
# os.fork() works as in plain Python.
#
# On the suite's server: from the named group wsl-proc-fork, os.fork() and
# os.forkpty() raise RuntimeError (200 with the message, no forked child,
# no Fatal Python error); subprocess.run(['/bin/true']) works.  On a
# server of the test's own with only %{GLOBAL} apps, os.fork() works: the
# forked child writes a marker and os._exit(0)s, the parent reaps it.  On
# another, whose children import a script into a sub-interpreter at
# start-up (WSGIImportScript), os.fork() from %{GLOBAL} raises too.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use File::Spec ();
use JSON::PP ();
use WSLTest qw(t_ok get_json log_during logs_dir);
use WSLServer ();

plan tests => 15, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/proc/fork.wsgi";
my $json = JSON::PP->new;
my $fatal = qr/Fatal Python error|Segmentation fault|exit signal|not main interpreter/;

sub markers {
    my ($dir) = @_;
    opendir my $dh, $dir or return ();
    my @m = grep /^fork-\d+\.txt$/, readdir $dh;
    closedir $dh;
    return @m;
}

# --- a sub-interpreter on the suite's server -----------------------------------------
my @before = markers(logs_dir());
my (%j);
my @lines = log_during(sub {
    for my $do ('fork', 'forkpty', 'subprocess') {
        $j{$do} = get_json("/proc/fork?do=$do");
    }
}, settle => 0.5);
my $sub_msg = qr/^RuntimeError: os\.fork\(\) is not supported in a sub-interpreter of an Apache child \(application group 'wsl-proc-fork'\); use subprocess/;
ok t_cmp($j{fork}{result} // '', $sub_msg,
         'os.fork() in a named group: RuntimeError naming the group and subprocess');
ok t_ok(!defined $j{fork}{child}, 'no process was forked');
(my $pty_msg = $sub_msg) =~ s/os\\\.fork/os\\.forkpty/;
ok t_cmp($j{forkpty}{result} // '', qr/^RuntimeError: os\.forkpty\(\) is not supported in a sub-interpreter .*'wsl-proc-fork'/,
         'os.forkpty() likewise');
ok t_cmp($j{subprocess}{result} // '', 'returncode 0',
         'subprocess.run(["/bin/true"]) works in the same group');
ok t_cmp(join('', grep /$fatal/, @lines), '', 'no Fatal Python error or crash in the log');
ok t_cmp(scalar(markers(logs_dir())), scalar(@before), 'no forked child ran');

# --- only %{GLOBAL} in the process: os.fork() works -------------------------------------
my $srv = eval {
    WSLServer->start(conf => <<"CONF");
SetEnv WSL_MARKER_DIR "\@TMPDIR\@"
WSGIScriptAlias /fork "$app" application-group=%{GLOBAL}
CONF
};
ok t_ok($srv, '(setup) a server with only %{GLOBAL} apps starts') or t_debug($@);
my ($code, $body) = $srv ? $srv->get('/fork?do=fork', 15) : (0, '');
my $g = eval { $json->decode($body) } || { result => "$code $body" };
ok t_cmp($g->{result} // '', 'exited 0',
         'os.fork() from %{GLOBAL} with no sub-interpreters: the child ran and exited 0');
ok t_ok($g->{child} && -e $srv->dir . "/fork-$g->{child}.txt",
        'the forked child wrote its marker');
my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs, 'the server stops, no process left behind');
my $log = $srv ? $srv->log_text : '';
ok t_cmp(join('', grep /$fatal|WSL00003:/, split /^/, $log), '',
         'no crash, and no sub-interpreter was ever made there');

# --- %{GLOBAL} beside a sub-interpreter: RuntimeError ----------------------------------
my $srv2 = eval {
    WSLServer->start(conf => <<"CONF");
SetEnv WSL_MARKER_DIR "\@TMPDIR\@"
WSGIImportScript "$app" application-group=wsl-proc-preloaded
WSGIScriptAlias /fork "$app" application-group=%{GLOBAL}
CONF
};
ok t_ok($srv2, '(setup) a server whose children preload a sub-interpreter starts') or t_debug($@);
($code, $body) = $srv2 ? $srv2->get('/fork?do=fork', 15) : (0, '');
$g = eval { $json->decode($body) } || { result => "$code $body" };
ok t_cmp($g->{result} // '', qr/^RuntimeError: os\.fork\(\) is not supported in the main interpreter of an Apache child that has sub-interpreters .*use subprocess/,
         'os.fork() from %{GLOBAL} while the child has a sub-interpreter: RuntimeError');
my $secs2 = $srv2 ? $srv2->stop(15) : undef;
ok t_ok(defined $secs2, 'that server stops, no process left behind');
my $log2 = $srv2 ? $srv2->log_text : '';
ok t_cmp(join('', grep /$fatal/, split /^/, $log2), '', 'no crash there either');
