# streams.t: sys.stdout, sys.stderr and sys.stdin are real io.TextIOWrapper
# objects, in %{GLOBAL} and in a sub-interpreter, as mod_wsgi makes them:
# over a buffer of the module's (mod_wsgi_lite.LogBuffer) that writes each
# line to the error log once, whether it came through print(), the text
# stream or its .buffer, from one thread or four at once; a partial line
# waits for its newline, and what is left of one when the server stops is
# logged as the child exits.  WSGIRestrictStdout On and WSGIRestrictStdin
# On refuse writing and reading with an OSError that names the directive;
# WSGIRestrictStdin Off leaves Python's own sys.stdin.
#
# The suite's server has the defaults (t/conf/streams.conf.in); three
# servers of the test's own cover child exit (normal finalisation, a
# sub-interpreter left with a running thread) and the opposite settings
# with WSGIDestroyInterpreter Off.  The app: t/htdocs/streams/streams.wsgi.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use WSLTest qw(t_ok get_json log_during);
use WSLServer ();

my @groups = ('global', 'sub');

# What every stream says about itself at import time: [stream, attribute
# (path into describe()'s report), expected value].
my @attrs;
for my $s ('stdout', 'stderr', 'stdin') {
    my $out = $s ne 'stdin';
    push @attrs,
        [$s, 'is_textiowrapper', 'true'],
        [$s, 'encoding', 'utf-8'],
        [$s, 'errors', 'replace'],
        [$s, 'line_buffering', 'true'],
        [$s, 'write_through', 'true'],
        [$s, 'name', "<$s>"],
        [$s, 'mode', $out ? 'w' : 'r'],
        [$s, 'closed', 'false'],
        [$s, 'isatty', 'false'],
        [$s, 'seekable', 'false'],
        [$s, 'readable', $out ? 'false' : 'true'],
        [$s, 'writable', $out ? 'true' : 'false'],
        [$s, 'fileno', 'raises io.UnsupportedOperation'],
        [$s, 'buffer.type', 'mod_wsgi_lite.LogBuffer'],
        [$s, 'buffer.name', "<$s>"],
        [$s, 'buffer.closed', 'false'],
        [$s, 'buffer.isatty', 'false'],
        [$s, 'buffer.readable', $out ? 'false' : 'true'],
        [$s, 'buffer.writable', $out ? 'true' : 'false'],
        [$s, 'buffer.fileno', 'raises io.UnsupportedOperation'];
}

# The lines one ?write=TAG request writes, each to be logged once.
my @written = qw(print stdout-write buffer-bytes buffer-bytearray
    buffer-memoryview stderr-write stderr-print writelines-1 writelines-2
    two-a two-b);

plan tests => @groups * (@attrs + 3) + @groups * (@written + 6)
    + @groups * 4 + @groups * 6 + @groups * 3
    + 10 + 5 + (3 + @groups * 10),
    need_module 'mod_wsgi_lite.c';

my $JSON = JSON::PP->new;

# One value of an attempt() report as a string: the result, or what it
# raised.
sub outcome {
    my ($a) = @_;
    return 'missing' unless ref $a eq 'HASH';
    if (exists $a->{ok}) {
        return $a->{unsupported} ? 'raises io.UnsupportedOperation'
                                 : "raises $a->{type}: $a->{message}"
            unless $a->{ok};
        $a = $a->{result};
    }
    return !defined $a ? 'None' : JSON::PP::is_bool($a) ? ($a ? 'true' : 'false') : $a;
}

sub dig {
    my ($h, $path) = @_;
    for my $k (split /\./, $path) {
        return undef unless ref $h eq 'HASH';
        $h = $h->{$k};
    }
    return $h;
}

sub value {
    my ($h, $path) = @_;
    my $v = dig($h, $path);
    return ref $v eq 'HASH' ? outcome($v)
         : JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : $v // 'missing';
}

# How many log lines are exactly $text, logged at server scope (as the
# standard streams log).
sub entries {
    my ($lines, $text) = @_;
    return scalar grep { my $l = $_; chomp $l; $l =~ /\] \Q$text\E$/ } @$lines;
}

sub tagged { my ($lines, $tag) = @_; return grep /\Q$tag\E/, @$lines }

# --- what the streams are, read at import time --------------------------------
for my $g (@groups) {
    my $j = get_json("/streams/$g?attrs=1");
    my $imp = $j->{at_import} || {};
    for my $a (@attrs) {
        my ($s, $path, $want) = @$a;
        ok t_cmp(value($imp->{$s}, $path), $want, "$g: sys.$s.$path at import time");
    }
    ok t_ok($j->{stdout_buffer_kept} && $j->{stdin_buffer_kept},
            "$g: the sys.stdout.buffer and sys.stdin.buffer taken at import are the streams' buffers in a request");
    ok t_cmp(join(',', map { $_ ? 'same' : 'new' } @{ $j->{same_streams} || [] }),
             'same,same,same', "$g: a request sees the streams made when the interpreter was set up");
    # The module's own wsgi.errors type stays what it was.
    my ($w) = get_json("/streams/$g?write=wsl-type-$$-$g");
    ok t_cmp(($w->{write} || {})->{wsgi_errors_type} // 'missing', 'mod_wsgi_lite.Log',
             "$g: wsgi.errors is still mod_wsgi_lite.Log (write, writelines, flush)");
}

# --- every way of writing reaches the log once --------------------------------
for my $g (@groups) {
    my $tag = "wsl-write-$$-$g";
    my $j;
    my @lines = log_during(sub { $j = get_json("/streams/$g?write=$tag") },
                           want => qr/\Q$tag\E-wsgi-errors/);
    for my $w (@written) {
        ok t_cmp(entries(\@lines, "$tag-$w"), 1, "$g: $w: one log entry");
    }
    ok t_cmp(entries(\@lines, "$tag-part1$tag-part2"), 1,
             "$g: print(end='') then flush() then print(): one entry, the whole line");
    ok t_cmp(scalar(grep /\Q$tag\E-part1\s*$/, @lines), 0,
             "$g: the partial line was not logged on its own");
    ok t_cmp(entries(\@lines, "$tag-mixed-text-mixed-bytes"), 1,
             "$g: text then bytes through .buffer join into one line");
    my @req = grep /\[client 127\.0\.0\.1:\d+\] \Q$tag\E-wsgi-errors$/, @lines;
    ok t_cmp(scalar(@req), 1, "$g: wsgi.errors logs its line once, for the request");
    ok t_cmp(scalar(tagged(\@lines, $tag)), @written + 3,
             "$g: nothing else was logged");
    ok t_cmp(join(',', map { $_ ? 1 : 0 } @{ ($j->{write} || {})->{wsgi_errors_api} || [] }),
             '1,1,1', "$g: wsgi.errors has write, writelines and flush");
}

# --- four threads at once ----------------------------------------------------
for my $g (@groups) {
    my $tag = "wsl-threads-$$-$g";
    my $j;
    my @lines = log_during(sub { $j = get_json("/streams/$g?threads=$tag") },
                           want => qr/\Q$tag\E t3 n49 /);
    my (%seen, @torn);
    for my $l (tagged(\@lines, $tag)) {
        chomp(my $c = $l);
        if ($c =~ /\] \Q$tag\E t(\d) n(\d+) x{150}$/) { $seen{"$1/$2"}++ }
        else { push @torn, $c }
    }
    ok t_cmp(($j->{threads} || {})->{alive} // 'missing', 0, "$g: the 4 threads finished");
    ok t_cmp(scalar(keys %seen), 200, "$g: all 200 lines of the 4 threads are in the log");
    ok t_cmp(scalar(grep { $_ != 1 } values %seen), 0, "$g: each of them once");
    ok t_cmp(join("\n", @torn[0 .. ($#torn < 2 ? $#torn : 2)]), '',
             "$g: no torn or joined line");
}

# --- reconfigure, errors='replace' -------------------------------------------
for my $g (@groups) {
    my $tag = "wsl-reconf-$$-$g";
    my $j;
    my @lines = log_during(sub { $j = get_json("/streams/$g?reconfigure=$tag") },
                           want => qr/\Q$tag\E-replace-/);
    my $r = $j->{reconfigure} || {};
    ok t_cmp($r->{errors_after} // 'missing', 'backslashreplace',
             "$g: sys.stderr.reconfigure(errors='backslashreplace') takes");
    # (Apache's error log doubles the backslash of the escape.)
    ok t_cmp(entries(\@lines, "$tag-backslash-\\\\udcff"), 1,
             "$g: and a lone surrogate is logged backslash-escaped");
    ok t_cmp($r->{errors_back} // 'missing', 'replace', "$g: reconfigure back to 'replace'");
    ok t_cmp(entries(\@lines, "$tag-replace-?"), 1,
             "$g: errors='replace' logs it as '?'");
    ok t_ok(JSON::PP::is_bool($r->{line_buffering}) && $r->{line_buffering},
            "$g: sys.stdout.reconfigure(line_buffering=True) works");
    ok t_ok($r->{same_object}, "$g: reconfigure keeps the same stream object");
}

# --- WSGIRestrictStdin On (the default) --------------------------------------
for my $g (@groups) {
    my $tag = "wsl-stdin-$$-$g";
    my $j;
    my @lines = log_during(sub { $j = get_json("/streams/$g?restricted=$tag") },
                           want => qr/\Q$tag\E-restricted/);
    my $r = $j->{restricted} || {};
    my @bad = grep {
        my $o = $r->{$_} || {};
        !($o->{oserror} && !$o->{unsupported} && ($o->{message} // '') =~ /WSGIRestrictStdin/)
    } qw(stdin_read stdin_readline stdin_iter stdin_buffer_read stdin_import_buffer_read1);
    ok t_cmp(join(' ', map { "$_: " . outcome($r->{$_}) } @bad), '',
             "$g: read, readline, iteration, .buffer.read, read1 raise OSError naming WSGIRestrictStdin");
    ok t_cmp(outcome($r->{stdin_write}), 'raises io.UnsupportedOperation',
             "$g: sys.stdin.write raises io.UnsupportedOperation");
    ok t_cmp(entries(\@lines, "$tag-restricted"), 3,
             "$g: WSGIRestrictStdout Off: print, write and .buffer.write each log their line");
}

# --- child exit: finalised normally ----------------------------------------
my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/streams/streams.wsgi";
my $aliases = <<"CONF";
WSGIScriptAlias /global "$app" application-group=%{GLOBAL}
WSGIScriptAlias /sub "$app" application-group=wsl-streams
WSGIScriptAlias /sub2 "$app" application-group=wsl-streams-2
CONF

# The partial lines a ?partial=TAG request leaves, each logged once, and
# only after the stop.
sub check_partial {
    my ($what, $before, $after, $tag, $stdout, $linger) = @_;
    my @before = tagged($before, $tag);
    ok t_cmp(scalar(@before), 0, "$what: nothing of the partial lines is logged before the stop");
    ok t_cmp(entries($after, "$tag-thread-partial"), 1,
             "$what: a joined thread's partial line on sys.stderr is logged once at child exit")
        or t_debug(join '', grep /wsl-|WSL|AH0|signal|exit/i, @$after);
    if ($stdout) {
        my $line = "$tag-stdout-partial" . ($linger ? "$tag-linger-partial" : '');
        ok t_cmp(entries($after, $line), 1,
                 "$what: sys.stdout's partial line" . ($linger ? ', continued by a running daemon thread,' : '')
                 . ' is logged once at child exit');
    }
}

{
    my $srv = eval { WSLServer->start(conf => $aliases) };
    ok t_ok($srv, '(setup) server P (defaults) starts') or t_debug($@);
    my %tags = (global => "wsl-exit-$$-global", sub => "wsl-exit-$$-sub");
    my (%res, $before);
    if ($srv) {
        ($res{global}) = $srv->get("/global?partial=$tags{global}&linger=1", 20);
        ($res{sub}) = $srv->get("/sub?partial=$tags{sub}", 20);
        $before = [split /^/, $srv->log_text];
    }
    ok t_cmp("$res{global}/$res{sub}", '200/200', 'server P: the ?partial requests answer');
    my $secs = $srv ? $srv->stop : undef;
    ok t_ok(defined $secs, 'server P stops');
    my $after = [split /^/, $srv ? $srv->log_text : ''];
    check_partial("server P, %{GLOBAL}", $before || [], $after, $tags{global}, 1, 1);
    check_partial("server P, sub-interpreter", $before || [], $after, $tags{sub}, 1, 0);
    ok t_cmp(scalar(grep /WSL00014|WSL00006|Fatal Python error|Segmentation fault/, @$after), 0,
             'server P: Python was finalised normally, without errors');
}

# --- child exit: a sub-interpreter left with a thread ---------------------------
{
    my $srv = eval { WSLServer->start(conf => $aliases) };
    ok t_ok($srv, '(setup) server L starts') or t_debug($@);
    my $tag = "wsl-left-$$";
    my ($code) = $srv ? $srv->get("/sub2?partial=$tag&linger=1", 20) : (0);
    my $before = [split /^/, $srv ? $srv->log_text : ''];
    my $secs = $srv ? $srv->stop : undef;
    my $after = [split /^/, $srv ? $srv->log_text : ''];
    ok t_ok($code == 200 && defined $secs && scalar(grep /WSL00014:.*wsl-streams-2/, @$after),
            'server L: the group is left running a thread at child exit (WSL00014)');
    check_partial('server L, sub-interpreter left running', $before, $after, $tag, 1, 1);
}

# --- WSGIRestrictStdout On, WSGIRestrictStdin Off, WSGIDestroyInterpreter Off ---
{
    my $srv = eval {
        WSLServer->start(conf => "WSGIRestrictStdout On\nWSGIRestrictStdin Off\n"
                                 . "WSGIDestroyInterpreter Off\n$aliases")
    };
    ok t_ok($srv, '(setup) server R (WSGIRestrictStdout On, WSGIRestrictStdin Off, WSGIDestroyInterpreter Off) starts')
        or t_debug($@);
    my %tags;
    for my $g (@groups) {
        my $tag = $tags{$g} = "wsl-restricted-$$-$g";
        my ($code, $body) = $srv ? $srv->get("/$g?restricted=$tag", 20) : (0, '');
        my $r = (eval { $JSON->decode($body) } || {})->{restricted} || {};
        for my $w (qw(print stdout_write stdout_buffer_write)) {
            my $o = $r->{$w} || {};
            ok t_cmp(($o->{oserror} ? 'OSError' : outcome($o)) . ': ' . ($o->{message} // ''),
                     qr/^OSError: .*WSGIRestrictStdout/,
                     "server R, $g: $w raises OSError naming WSGIRestrictStdout");
        }
        ok t_cmp(outcome($r->{stdout_encoding}), 'utf-8',
                 "server R, $g: the restricted sys.stdout still answers .encoding");
        ok t_cmp($r->{stdout_buffer} // 'missing', 'LogBuffer',
                 "server R, $g: and has its .buffer");
        ok t_cmp(outcome($r->{stdin_read}), '',
                 "server R, $g: WSGIRestrictStdin Off: sys.stdin.read() gives '' (Python's own stdin, /dev/null)");
        ok t_cmp(($r->{stdin_type} // '') . '/' . ($r->{stdin_buffer_type} // ''),
                 'TextIOWrapper/BufferedReader', "server R, $g: sys.stdin is Python's own");
        ($code, $body) = $srv ? $srv->get("/$g?partial=$tag", 20) : (0, '');
        my $p = (eval { $JSON->decode($body) } || {})->{partial} || {};
        ok t_cmp(outcome($p->{stdout}), qr/^raises OSError: .*WSGIRestrictStdout/,
                 "server R, $g: a partial write to sys.stdout is refused too");
        ok t_ok($code == 200, "server R, $g: ?partial answers");
    }
    my $before = [split /^/, $srv ? $srv->log_text : ''];
    ok t_cmp(scalar(grep /-restricted$|-stdout-partial/, tagged($before, "wsl-restricted-$$")), 0,
             'server R: nothing written to the restricted sys.stdout reached the log');
    my $secs = $srv ? $srv->stop : undef;
    ok t_ok(defined $secs, 'server R stops');
    my $after = [split /^/, $srv ? $srv->log_text : ''];
    for my $g (@groups) {
        ok t_cmp(entries($after, "$tags{$g}-thread-partial"), 1,
                 "server R, $g: WSGIDestroyInterpreter Off: the partial sys.stderr line is logged once at child exit")
            or t_debug(join '', grep /wsl-|WSL|AH0|signal|exit/i, @$after);
    }
}
