# types.t: every interpreter has its own copy of the module's Python types
# (wsgi.input, wsgi.errors, start_response, wsgi.file_wrapper and the
# buffer under sys.stdout), as interpreters with their own GIL require:
# in one process, the same script in two application groups and in
# %{GLOBAL} sees different type objects with the same names.  Each copy
# behaves as the one static type of before did (immutable, not a base
# type, only the file wrapper callable), mod_wsgi.FileWrapper is the
# interpreter's wsgi.file_wrapper, and a wrapper over a real file made in
# a group is recognised there and sent without read() being called.
# The app: t/htdocs/types/types.wsgi.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok get_json);

my @groups = (['g', '%{GLOBAL}', ''], ['a', 'wsl-types-a', 'wsl-types-a'],
              ['b', 'wsl-types-b', 'wsl-types-b']);
my %kinds = (input => 'Input', errors => 'Log',
             start_response => 'StartResponse',
             file_wrapper => 'FileWrapper', stdout_buffer => 'LogBuffer');
my @kinds = sort keys %kinds;

plan tests => 2 + @kinds * 2 + @groups * 8, need_module 'mod_wsgi_lite.c';

# One connection for everything, so that every request is served by the
# same child: ids compare within one process.
Apache::TestRequest::user_agent(reset => 1, keep_alive => 1, timeout => 20);

my %info;
for my $g (@groups) {
    my ($path, $name, $group) = @$g;
    $info{$path} = get_json("/types/$path?info");
}
ok t_cmp(join(' ', map { $info{ $_->[0] }{group} // '?' } @groups),
         join(' ', map { $_->[2] } @groups),
         '(setup) each URL runs in its application group');
my %pids = map { ($info{ $_->[0] }{pid} // 'none') => 1 } @groups;
ok t_ok(keys %pids == 1 && !$pids{none},
        '(setup) one process served all three (one keep-alive connection): '
        . join(',', sort keys %pids));

for my $kind (@kinds) {
    my @t = map { $info{ $_->[0] }{types}{$kind} || {} } @groups;
    my %ids = map { ($_->{id} // 'none') => 1 } @t;
    ok t_cmp(scalar(grep { $_ ne 'none' } keys %ids), 3,
             "$kind: a type object of its own in each of %{GLOBAL} and two groups");
    ok t_cmp(join(' | ', map { join ' ', map { $_ // '?' }
                               @$_{qw(module name qualname repr)} } @t),
             join(' | ', ("mod_wsgi_lite $kinds{$kind} $kinds{$kind} "
                          . "<class 'mod_wsgi_lite.$kinds{$kind}'>") x 3),
             "$kind: the same __module__, __name__, __qualname__ and repr in each "
             . "(mod_wsgi_lite.$kinds{$kind})");
}

for my $g (@groups) {
    my ($path, $name) = @$g;
    my $j = $info{$path};
    my $types = $j->{types} || {};
    ok t_cmp(join(' ', map { $types->{$_}{set_attr} // 'allowed' } @kinds),
             join(' ', ('TypeError') x @kinds),
             "$name: no type can be changed by the application (immutable)");
    ok t_cmp(join(' ', map { $types->{$_}{subclass} // 'allowed' } @kinds),
             join(' ', ('TypeError') x @kinds),
             "$name: no type can be subclassed");
    ok t_cmp(join(' ', map { $types->{$_}{instantiate} // 'allowed' }
                       grep { $_ ne 'file_wrapper' } @kinds),
             join(' ', ('TypeError') x (@kinds - 1)),
             "$name: only the file wrapper can be called to make an object");
    ok t_ok($j->{module_file_wrapper},
            "$name: mod_wsgi.FileWrapper and mod_wsgi_lite.FileWrapper are environ['wsgi.file_wrapper']");
    ok t_cmp(join(' ', map { "$_=" . ($j->{cycle}{$_} ? 'yes' : 'no') }
                       qw(tracked collected)),
             'tracked=yes collected=yes',
             "$name: a file wrapper is garbage collected: a cycle through its file-like object is freed");

    my $file = Apache::Test::vars('documentroot') . '/types/types.wsgi';
    open my $fh, '<:raw', $file or die "$file: $!";
    my $script = do { local $/; <$fh> };
    close $fh;
    my $sent = GET("/types/$path?send");
    my $iter = GET("/types/$path?send_iter");
    ok t_cmp($sent->code . ' ' . ($sent->content eq $script ? 'same' : 'differs')
             . ' ' . $iter->code . ' '
             . ($iter->content eq $script ? 'same' : 'differs'),
             '200 same 200 same',
             "$name: a wrapped real file and a wrapped file without fileno() arrive whole");
    my $p = get_json("/types/$path?probe");
    my @reads = @{ $p->{closed_reads} || [] };
    ok t_cmp(scalar(@reads) >= 2 ? $reads[-2] : 'no probe closed', 0,
             "$name: the real file went out as a file (sendfile), read() never called: "
             . "the wrapper is of this interpreter's type");
    ok t_ok(@reads >= 2 && $reads[-1] > 0,
            "$name: without fileno() the wrapper is iterated instead "
            . "(read() called " . ($reads[-1] // 0) . ' times)');
}
