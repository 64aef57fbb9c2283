# t/lib/WSLTest.pm: helpers shared by the mod_wsgi_lite tests.
#
# - raw_request: exact bytes on the wire (chunked uploads, odd header names,
#   latin-1 header bytes, early disconnects), which LWP would normalise;
# - get_json / post_json: call a JSON-reporting app and decode its answer;
# - log_during: the error_log lines written while a block ran;
# - wsgi_log_entries: the WSL-tagged lines among them;
# - embedded_python / need_debian_python / debian_python_or_skip: which
#   Python the server embeds, and skipping what needs Debian's python3-*.
package WSLTest;

use strict;
use warnings FATAL => 'all';

use Exporter ();
use Symbol ();
our @ISA = ('Exporter');
use IO::Socket::INET ();
use IO::Select ();
use JSON::PP ();
use Time::HiRes ();
use File::Spec ();

use Apache::Test ();
use Apache::TestRequest ();
use Apache::TestUtil ();

our @EXPORT_OK = qw(t_ok safe raw_request raw_connect parse_response get_json
    post_json decode_json_body log_during wsgi_log_entries expected_mpm
    logs_dir wait_until random_bytes test_port diag read_until_eof
    embedded_python debian_python need_debian_python debian_python_or_skip
    daemon_mode need_embedded);

my $JSON = JSON::PP->new->canonical;

# A failing check says what it got, with or without -verbose: the
# "testing / expected / received" lines t_cmp writes (t_debug, which the
# harness shows only in verbose mode) are kept from one ok() to the next,
# and printed on STDERR, where CI's log has them, when that ok() fails.
my @since_ok;
{
    package WSLTest::DebugTee;
    sub TIEHANDLE { my ($class, $fh) = @_; return bless { fh => $fh }, $class }
    sub PRINT {
        my $self = shift;
        my $text = join '', @_;
        push @since_ok, $text if @since_ok < 200;
        return print { $self->{fh} } $text;
    }
    sub PRINTF { my $self = shift; my $fmt = shift; $self->PRINT(sprintf $fmt, @_) }
}
my $tee = Symbol::gensym();
tie *$tee, 'WSLTest::DebugTee', $Apache::TestUtil::DEBUG_OUTPUT;
$Apache::TestUtil::DEBUG_OUTPUT = $tee;

my $verbose = $ENV{HARNESS_IS_VERBOSE} || $ENV{TEST_VERBOSE};
my %wrapped;

# Export as Exporter does, and wrap the caller's ok() (Test.pm's, with
# its prototype) once.
sub import {
    my $class = shift;
    my $caller = caller;
    no strict 'refs';
    no warnings 'redefine';
    if (defined &{"${caller}::ok"} && !$wrapped{$caller}++) {
        my $orig = \&{"${caller}::ok"};
        *{"${caller}::ok"} = sub ($;$$) {
            # Test.pm names the caller's file and line, not this one's.
            local $Test::TestLevel = ($Test::TestLevel || 0) + 1;
            my $passed = &$orig;
            if (!$passed && !$verbose) {
                my @lines = map { split /\n/ } @since_ok;
                @lines = @lines[-40 .. -1] if @lines > 40;
                print STDERR map {
                    (length > 300 ? substr($_, 0, 300) . '...' : $_) . "\n"
                } @lines;
            }
            @since_ok = ();
            return $passed;
        };
    }
    $class->export_to_level(1, $class, @_);
}

# Test.pm has no diag(): explain a failure on STDERR, as '# ' lines.
sub diag { print STDERR map { "# $_\n" } split /\n/, join("", @_) }

# A named boolean check.  Apache::Test's ok() is Test.pm's, whose second
# argument is an expected value, not a name: write ok t_ok($cond, $name).
sub t_ok {
    my ($cond, $name) = @_;
    return Apache::TestUtil::t_cmp($cond ? 'true' : 'false', 'true', $name);
}

# The MPM this run was configured for (t/TEST.PL, WSL_MPM).
sub expected_mpm {
    my $vars = Apache::Test::vars();
    return $vars->{wsl_mpm} || $ENV{WSL_MPM} || 'event';
}

sub logs_dir { Apache::Test::vars('t_logs') }

# The Python the module embeds, as the running test server reports it
# (/sysinfo: sys.version_info, sys.prefix): { version => '3.13.0', xy =>
# '3.13', prefix => ..., stdlib => ... }, empty when the server gave no
# answer.  Asked once per test file.
my $EMBEDDED;
sub embedded_python {
    unless ($EMBEDDED) {
        # The main server's /sysinfo, whichever virtual host the file
        # has selected.
        local $Apache::TestRequest::Module = 'default';
        my $j = get_json('/sysinfo');
        $EMBEDDED = {};
        if (($j->{version} // '') =~ /^(\d+\.\d+)\.\d+$/) {
            $EMBEDDED = { %$j, xy => $1 };
        }
    }
    return $EMBEDDED;
}

# Debian's /usr/bin/python3 as X.Y: the one Python that Debian's python3-*
# packages (Flask, Django, hgweb, Radicale, graphite-web) and its mod_wsgi
# are built for.
my $DEBIAN;
sub debian_python {
    unless (defined $DEBIAN) {
        $DEBIAN = `/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null` // '';
        chomp $DEBIAN;
    }
    return $DEBIAN;
}

# Whether what needs Debian's packages can run: the server embeds Debian's
# Python.  Only a server that answers with another version says no, so on
# Debian's Python a broken server fails these tests rather than skip them.
sub on_debian_python {
    my $xy = embedded_python()->{xy};
    return !defined $xy || $xy eq debian_python();
}

sub debian_python_reason {
    my ($what, $why) = @_;
    my $py = embedded_python();
    return sprintf("%s needs Debian's Python %s (%s); the module embeds "
                   . "Python %s (%s)", $what, debian_python(),
                   $why // "Debian's python3-* packages are built for it",
                   $py->{version} // 'unknown',
                   $py->{prefix} // 'no answer from /sysinfo');
}

# For plan ..., need ...: the whole file is skipped, with the reason, when
# the module embeds another Python than Debian's.  $what names the file and
# what it uses; $why, when given, replaces "Debian's python3-* packages are
# built for it".
sub need_debian_python {
    my ($what, $why) = @_;
    return { debian_python_reason($what, $why) => on_debian_python() ? 1 : 0 };
}

# For a part of a file: true on Debian's Python; otherwise $n tests are
# reported as skipped, with the reason, and it is false.
sub debian_python_or_skip {
    my ($n, $what) = @_;
    return 1 if on_debian_python();
    my $reason = debian_python_reason($what);
    Test::skip($reason) for 1 .. $n;
    diag("skipped $n: $reason");
    return 0;
}

# t/run.sh's daemon mode: the suite's requests run in a daemon process
# group (WSL_MODE=daemon, t/TEST.PL).
sub daemon_mode { ($ENV{WSL_MODE} // '') eq 'daemon' }

# For plan ..., need ...: a file about embedded mode by its nature (what
# Apache's own children do with Python) is skipped in daemon mode, saying
# why; $why completes "embedded mode by nature: ".
sub need_embedded {
    my ($why) = @_;
    return { "embedded mode by nature: $why" => daemon_mode() ? 0 : 1 };
}

# Port of the current Apache::TestRequest::module() (default server or a
# named <VirtualHost>).
sub test_port {
    my $hostport = Apache::TestRequest::hostport();
    my ($port) = $hostport =~ /:(\d+)$/;
    return $port;
}

sub raw_connect {
    my $hostport = Apache::TestRequest::hostport();
    my $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 30)
        or die "cannot connect to $hostport: $!";
    binmode $sock;
    return $sock;
}

# Everything $sock delivers until the peer closes it or the absolute
# Time::HiRes time $deadline passes, each wait bounded by that deadline
# (a server that hangs fails the test instead of hanging it).
sub read_until_eof {
    my ($sock, $deadline) = @_;
    my $sel = IO::Select->new($sock);
    my $data = '';
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $data .= $buf;
    }
    return $data;
}

# Send $request (bytes, complete with the blank line and body) on a fresh
# connection and read until the server closes it.  The request should carry
# "Connection: close".  Returns a parse_response hash.
sub raw_request {
    my ($request, %opt) = @_;
    my $sock = raw_connect();
    print $sock $request;
    my $data = read_until_eof($sock,
                              Time::HiRes::time() + ($opt{timeout} || 60));
    close $sock;
    return parse_response($data, $opt{head});
}

# Parse one HTTP/1.x response: status, reason, headers (list of [name,
# value] in order, plus a lower-cased name => [values] map), body
# (de-chunked), raw header block, and 'complete' (the body was framed
# correctly: full Content-Length or a terminating zero chunk).
sub parse_response {
    my ($data, $head) = @_;
    my %r = (raw => $data, headers => [], h => {}, body => '',
             complete => 0);
    my $end = index($data, "\r\n\r\n");
    return \%r if $end < 0;
    my $block = substr($data, 0, $end);
    my $rest = substr($data, $end + 4);
    $r{head_raw} = $block;
    my ($status_line, @lines) = split /\r\n/, $block;
    @r{qw(protocol status reason)} =
        $status_line =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?$};
    $r{reason} //= '';
    for (@lines) {
        my ($n, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @{ $r{headers} }, [$n, $v];
        push @{ $r{h}{lc $n} }, $v;
    }
    my $te = join ',', @{ $r{h}{'transfer-encoding'} || [] };
    if ($head || $r{status} =~ /^(?:1\d\d|204|304)$/) {
        $r{body} = $rest;
        $r{complete} = 1;
    }
    elsif ($te =~ /chunked/i) {
        my $body = '';
        while ($rest =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $size = hex $1;
            if ($size == 0) { $r{complete} = 1; last }
            last if length($rest) < $size + 2;
            $body .= substr($rest, 0, $size);
            substr($rest, 0, $size + 2) = '';
        }
        $r{body} = $body;
    }
    elsif (defined(my $cl = $r{h}{'content-length'})) {
        $r{body} = substr($rest, 0, $cl->[0]);
        $r{complete} = length($rest) >= $cl->[0];
        $r{extra} = substr($rest, $cl->[0]) if length($rest) > $cl->[0];
    }
    else {
        $r{body} = $rest;
        $r{complete} = 1;
    }
    return \%r;
}

sub decode_json_body {
    my ($res, $what) = @_;
    my $content = ref $res eq 'HASH' ? $res->{body} : $res->content;
    my $data = eval { $JSON->decode($content) };
    unless ($data) {
        my $code = ref $res eq 'HASH' ? $res->{status} : $res->code;
        my $snippet = substr($content // '', 0, 300);
        warn "# ${\ ($what || 'response')}: not JSON (status $code): "
            . "$snippet\n";
        return {};
    }
    return $data;
}

# Apache::TestRequest dies on some broken responses (a connection closed
# without a status line is reported as "HTTP/0.9"); turn that into a 599
# response so one module bug fails one test, not the whole file.
sub safe {
    my ($code) = @_;
    my $res = eval { $code->() };
    return $res if $res;
    require HTTP::Response;
    (my $err = $@ || 'no response') =~ s/\s+$//;
    return HTTP::Response->new(599, 'request failed', [], $err);
}

sub get_json {
    my ($url, @headers) = @_;
    my $res = safe(sub { Apache::TestRequest::GET($url, @headers) });
    return wantarray ? (decode_json_body($res, $url), $res)
                     : decode_json_body($res, $url);
}

sub post_json {
    my ($url, $content, @headers) = @_;
    my $res = safe(sub {
        Apache::TestRequest::POST($url, content => $content, @headers)
    });
    return wantarray ? (decode_json_body($res, $url), $res)
                     : decode_json_body($res, $url);
}

# Run $code and return the error_log lines written meanwhile.  Some
# entries are written after the response is complete (an error in the
# iterable's close(), a client disconnect), so with want => qr/.../ keep
# reading for up to settle seconds (default 5) until a line matches.
sub log_during {
    my ($code, %opt) = @_;
    my $file = File::Spec->catfile(logs_dir(), 'error_log');
    open my $fh, '<', $file or die "cannot open $file: $!";
    seek $fh, 0, 2;
    $code->();
    my @lines;
    my $deadline = Time::HiRes::time() + ($opt{settle} // 5);
    while (1) {
        seek $fh, 0, 1;    # clear EOF
        while (defined(my $line = <$fh>)) {
            push @lines, $line;
        }
        last unless $opt{want};
        last if grep /$opt{want}/, @lines;
        last if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.1);
    }
    close $fh;
    return @lines;
}

sub wsgi_log_entries { grep /\bWSL\d+:/, @_ }

# $cond's value once it is true, else its last one after $timeout
# seconds; always one value (a scalar), whatever the caller's context: a
# match that failed would otherwise give an empty list, and in
# ok t_ok(wait_until(...), $name) the name would become the condition.
sub wait_until {
    my ($cond, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout || 10);
    while (Time::HiRes::time() < $deadline) {
        my $v = $cond->();
        return $v if $v;
        Time::HiRes::sleep(0.1);
    }
    return scalar $cond->();
}

# Deterministic pseudo-random bytes (reproducible failures).
sub random_bytes {
    my ($n, $seed) = @_;
    srand($seed // 42);
    my $words = int(($n + 3) / 4);
    my $s = pack 'N*', map { int rand 4294967296 } 1 .. $words;
    return substr($s, 0, $n);
}

1;
