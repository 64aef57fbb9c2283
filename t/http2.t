# http2.t: the same requests over HTTP/1.1 and over HTTP/2 (h2c with prior
# knowledge, mod_http2, curl) give the same status, the same body byte for
# byte (SHA-256) and the same relevant headers: a plain GET, generator
# responses (streamed as they are produced), wsgi.file_wrapper over a few
# MiB, POST bodies of known length and of unknown length (HTTP/2 without
# content-length, HTTP/1.1 chunked: both need WSGIChunkedRequest On, both
# are refused with 411 without it).
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use File::Temp ();
use WSLTest qw(t_ok test_port random_bytes logs_dir expected_mpm);

my $curl_features = `curl -V 2>/dev/null`;
my $h2_so = '/usr/lib/apache2/modules/mod_http2.so';

# [ name, method, path, body (undef: none), body length known? ]
my $blob_size = 3 * 1024 * 1024 + 12345;
my $up_known = random_bytes(1024 * 1024 + 17, 7);
my $up_unknown = random_bytes(2 * 1024 * 1024 + 3, 8);
my @cases = (
    ['GET with Content-Length and repeated Set-Cookie', 'GET', '/h2/app?case=hello'],
    ['HEAD', 'HEAD', '/h2/app?case=hello'],
    ['GET of a missing script (404)', 'GET', '/h2/nothing-here'],
    ['app sets a header value with CRLF (500)', 'GET', '/h2/app?case=split'],
    ['generator response, 3000 pieces', 'GET', '/h2/app?case=stream&n=3000'],
    ['wsgi.file_wrapper, 3 MiB, Content-Length', 'GET', '/h2/app?case=file'],
    ['wsgi.file_wrapper, 3 MiB, no Content-Length', 'GET', '/h2/app?case=file_nocl'],
    ['POST, 1 MiB, known length', 'POST', '/h2/app?case=echo', $up_known, 1],
    ['POST, empty body, known length', 'POST', '/h2/app?case=echo', '', 1],
    ['POST, 2 MiB, unknown length, WSGIChunkedRequest On', 'POST',
     '/h2/chunked?case=echo', $up_unknown, 0],
    # Small: the 411 comes before the upload ends, and mod_http2 then
    # resets the stream with NO_ERROR (RFC 9113 8.1); curl 7.88 reports a
    # reset during an upload as error 92 instead of the response it got
    # (curl/curl#986 and later), so the body must fit in one window.
    ['POST, unknown length, WSGIChunkedRequest Off (411)', 'POST',
     '/h2/app?case=echo', substr($up_known, 0, 1000), 0],
);

plan tests => 4 + 3 * @cases + 5,
    need need_module('mod_wsgi_lite.c'),
    need_min_apache_version('2.4.17'),
    { 'curl with HTTP2 support' => $curl_features =~ /^Features:.*\bHTTP2\b/m,
      "$h2_so" => -f $h2_so };

Apache::TestRequest::module('wsl_h2');
my $port = test_port();
my $tmp = File::Temp->newdir('wsl-h2-XXXXXX', TMPDIR => 1);

# Run curl once; returns { version, status, headers (lc name => [values]
# of the final response), body, ttfb, total, rc }.
my $seq = 0;
sub curl {
    my ($proto, $method, $path, $body, $known) = @_;
    $seq++;
    my ($head, $out) = ("$tmp/head$seq", "$tmp/body$seq");
    my @args = ('curl', '-sS', '--max-time', '120', '-o', $out, '-D', $head,
                '-w', '%{http_version} %{time_starttransfer} %{time_total} %{size_download}',
                $proto eq '2' ? '--http2-prior-knowledge' : '--http1.1',
                '-H', 'Expect:');
    my $stdin = '/dev/null';
    if ($method eq 'HEAD') {
        push @args, '-I';
    }
    elsif (defined $body) {
        my $file = "$tmp/up$seq";
        open my $fh, '>:raw', $file or die $!;
        print $fh $body;
        close $fh;
        push @args, '-H', 'Content-Type: application/octet-stream';
        if ($known) {
            push @args, '--data-binary', "\@$file";
        }
        else {
            # From a pipe: curl cannot know the length (chunked on
            # HTTP/1.1, no content-length on HTTP/2).
            push @args, '-X', 'POST', '-T', '-';
            $stdin = $file;
        }
    }
    push @args, "http://127.0.0.1:$port$path";
    my $cmd = join(' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args)
        . " < '$stdin' 2>&1";
    my $w = `$cmd`;
    my %r = (rc => $? >> 8);
    @r{qw(version ttfb total downloaded)} =
        split ' ', ($w =~ /(\S+ \S+ \S+ \S+)\s*$/ ? $1 : '');
    $r{out} = $w;
    # With -I curl writes the header block where the body would go.
    $r{body} = $method eq 'HEAD'
        ? ($r{downloaded} ? "<$r{downloaded} body bytes>" : '')
        : do { local $/; open my $fh, '<:raw', $out or return \%r; <$fh> } // '';
    my $raw = do { local $/; open my $fh, '<:raw', $head or return \%r; <$fh> } // '';
    my @blocks = grep /\S/, split /\r?\n\r?\n/, $raw;
    my ($status_line, @lines) = split /\r?\n/, ($blocks[-1] // '');
    ($r{status}) = ($status_line // '') =~ m{^HTTP/\S+ (\d{3})};
    for (@lines) {
        push @{ $r{headers}{lc $1} }, $2 if /^([^:]+):\s*(.*?)\s*$/;
    }
    return \%r;
}

# The headers that must agree (framing headers differ by design:
# Transfer-Encoding and Connection do not exist in HTTP/2).
sub relevant_headers {
    my ($r) = @_;
    my $h = $r->{headers} || {};
    return join "\n", map { "$_: " . join(' | ', @{ $h->{$_} }) }
        grep { /^(?:content-type|content-length|set-cookie|x-.*)$/ } sort keys %$h;
}

# --- HTTP/2 is really spoken (or the MPM refuses it) ----------------------------
# mod_http2 2.0.42 (httpd 2.4.71) logs AH10034 under prefork ("not supported
# ... advisory warning") and serves HTTP/2 all the same, so the tests run
# under both MPMs; a version that really refuses prefork is skipped here.
my $probe = curl('2', 'GET', '/h2/app?case=proto');
if (($probe->{version} // '') ne '2' && expected_mpm() eq 'prefork') {
    my ($why) = grep /AH10034|not supported by mod_http2/,
        do { open my $fh, '<', logs_dir() . '/error_log'; <$fh> };
    print "# mod_http2 refuses the prefork MPM: "
        . ($why // "no HTTP/2 answer ($probe->{out})") . "\n";
    skip("mod_http2 does not serve HTTP/2 under the prefork MPM") for 1 .. 4 + 3 * @cases + 5;
    exit 0;
}
ok t_cmp($probe->{version}, '2', 'curl --http2-prior-knowledge gets an HTTP/2 answer');
ok t_cmp($probe->{body}, 'HTTP/2.0 none', 'the app sees SERVER_PROTOCOL HTTP/2.0');
my $probe1 = curl('1.1', 'GET', '/h2/app?case=proto');
ok t_cmp("$probe1->{version} $probe1->{body}", '1.1 HTTP/1.1 none',
         'the same vhost still speaks HTTP/1.1');

# The file the file_wrapper case sends.
{
    my $path = logs_dir() . '/wsl_h2_blob.bin';
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh random_bytes($blob_size, 5);
    close $fh;
    chmod 0644, $path;
}
ok t_ok(-s logs_dir() . '/wsl_h2_blob.bin' == $blob_size, '(setup) the file_wrapper blob is written');

# --- the same request over both protocols ---------------------------------------
my %by_name;
for my $c (@cases) {
    my ($name, $method, $path, $body, $known) = @$c;
    my $h1 = curl('1.1', $method, $path, $body, $known);
    my $h2 = curl('2', $method, $path, $body, $known);
    # curl's side of the 411 case (see @cases): when the server's answer
    # and its stream reset overtake the upload, curl may report error 92
    # and drop the response it got (more often on a loaded machine).
    # Only that, and at most five times, is asked again; the answer must
    # still be the one HTTP/1.1 got.
    for (1 .. 5) {
        last unless $h2->{rc} == 92 && !defined $h2->{status} && !$known;
        $h2 = curl('2', $method, $path, $body, $known);
    }
    $by_name{$name} = [$h1, $h2];
    ok t_cmp("$h2->{version} " . ($h2->{status} // 'none'),
             "2 " . ($h1->{status} // 'none'), "$name: same status over HTTP/2")
        or print "# curl h1: $h1->{out}\n# curl h2: $h2->{out}\n";
    ok t_cmp(length($h2->{body}) . ' ' . sha256_hex($h2->{body}),
             length($h1->{body}) . ' ' . sha256_hex($h1->{body}),
             "$name: same body bytes (length, SHA-256) over HTTP/2");
    ok t_cmp(relevant_headers($h2), relevant_headers($h1),
             "$name: same Content-Type, Content-Length, Set-Cookie, X-* headers over HTTP/2");
}

# --- what the bodies were -----------------------------------------------------------
my ($h1, $h2) = @{ $by_name{'POST, 1 MiB, known length'} };
ok t_cmp(join(' ', map { $h2->{headers}{$_}[0] // 'none' } qw(x-body-length x-body-sha256 x-content-length)),
         join(' ', length($up_known), sha256_hex($up_known), length($up_known)),
         'HTTP/2 POST of known length: the app reads the whole body through wsgi.input');
($h1, $h2) = @{ $by_name{'POST, 2 MiB, unknown length, WSGIChunkedRequest On'} };
ok t_cmp(join(' ', map { $h2->{headers}{$_}[0] // 'none' } qw(x-body-length x-body-sha256 x-content-length)),
         join(' ', length($up_unknown), sha256_hex($up_unknown), 'none'),
         'HTTP/2 POST without content-length: the app reads the whole body, no CONTENT_LENGTH');
($h1, $h2) = @{ $by_name{'wsgi.file_wrapper, 3 MiB, Content-Length'} };
ok t_cmp(length($h2->{body}), $blob_size, 'HTTP/2 file_wrapper: every byte of the file');

($h1, $h2) = @{ $by_name{'app sets a header value with CRLF (500)'} };
ok t_ok(($h2->{status} // 0) == 500 && !grep(/injected/, keys %{ $h2->{headers} || {} })
        && $h2->{body} !~ /should not be sent/,
        'HTTP/2 response splitting: a 500, no injected header, not the app\'s body');

# A generator is streamed over HTTP/2 too: the first piece arrives while
# the app still sleeps between the next ones (generous bound: 4 pieces, a
# second apart, the first byte well before the end).
my $s = curl('2', 'GET', '/h2/app?case=stream&n=4&sleep=1');
ok t_ok(($s->{status} // 0) == 200 && $s->{total} >= 2.5 && $s->{ttfb} < $s->{total} - 1.5,
        'HTTP/2 generator response is streamed (first bytes before the generator ends)')
    or print "# ttfb $s->{ttfb}, total $s->{total}\n";
