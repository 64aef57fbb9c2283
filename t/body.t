# body.t: large request and response bodies.  1 MB and 10 MB uploads with
# checksums, chunked uploads (WSGIChunkedRequest On), and response forms:
# many small chunks, empty, 204, 304, write(), wsgi.file_wrapper over real
# files and file-likes, HEAD, and Content-Length enforcement.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use WSLTest qw(t_ok raw_request raw_connect decode_json_body test_port logs_dir
               random_bytes log_during wsgi_log_entries);

plan tests => 40, need_module 'mod_wsgi_lite.c';

my $port = test_port();

sub raw {
    my ($method, $path, %opt) = @_;
    my $req = "$method $path HTTP/1.1\r\nHost: localhost:$port\r\n"
            . "Connection: close\r\n";
    if (defined $opt{body}) {
        $req .= "Content-Type: application/octet-stream\r\n"
              . "Content-Length: " . length($opt{body}) . "\r\n";
    }
    $req .= "\r\n" . ($opt{body} // '');
    return raw_request($req, head => $method eq 'HEAD', timeout => 120);
}

# --- uploads ----------------------------------------------------------------------
for my $size (1_000_000, 10_000_000) {
    my $data = random_bytes($size, $size);
    my $mb = $size / 1_000_000;
    my $res = POST('/echo_sha', content => $data,
                   'Content-Type' => 'application/octet-stream');
    my $j = decode_json_body($res, "${mb}MB upload");
    ok t_cmp($j->{length}, $size, "a $mb MB POST body is read whole");
    ok t_cmp($j->{sha256}, sha256_hex($data), "a $mb MB POST body arrives intact (SHA-256)");
    ok t_cmp($j->{content_length}, "$size", "CONTENT_LENGTH of a $mb MB body");
}

{
    my $data = random_bytes(1_000_000, 7);
    my $res = POST('/echo_sha?echo=1', content => $data,
                   'Content-Type' => 'application/octet-stream');
    ok t_cmp(length($res->content), 1_000_000, '1 MB echoed back has the right length');
    ok t_cmp(sha256_hex($res->content), sha256_hex($data), '1 MB echoed back unchanged');
}

# Chunked upload with WSGIChunkedRequest On: 3 MB in uneven chunks.
{
    my $data = random_bytes(3_000_000, 99);
    my $req = "POST /chunked_on HTTP/1.1\r\nHost: localhost:$port\r\n"
            . "Content-Type: application/octet-stream\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    my $off = 0;
    my @sizes = (1, 4095, 65536, 100_000, 7);
    my $i = 0;
    while ($off < length $data) {
        my $n = $sizes[$i++ % @sizes];
        my $piece = substr($data, $off, $n);
        $off += length $piece;
        $req .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
    }
    $req .= "0\r\n\r\n";
    my $j = decode_json_body(raw_request($req, timeout => 120), 'chunked upload');
    ok t_cmp($j->{length}, 3_000_000, 'a 3 MB chunked upload is read whole');
    ok t_cmp($j->{sha256}, sha256_hex($data), 'a 3 MB chunked upload arrives intact');
    ok t_ok($j->{input_terminated}, 'wsgi.input_terminated is True for a chunked upload');
}

# --- generated responses -----------------------------------------------------------
{
    my $n = 20_000;
    my $res = raw('GET', "/gen?n=$n");
    my $expect = join '', map { sprintf '%08d|', $_ } 0 .. $n - 1;
    ok t_cmp(length $res->{body}, length $expect,
             'a generator of 20 000 small chunks: length');
    ok t_ok($res->{body} eq $expect, 'a generator of 20 000 small chunks: content and order');
    ok t_ok($res->{complete}, 'a generator response is correctly framed');
    $res = raw('HEAD', "/gen?n=$n");
    ok t_cmp($res->{status} . ':' . length($res->{body}), '200:0',
             'HEAD of a generator: 200 and no body');
}

{
    my $res = raw('GET', '/response?case=empty');
    ok t_cmp($res->{status} . ':' . $res->{body}, '200:', 'an empty iterable gives an empty 200');
    ok t_ok($res->{complete}, 'an empty 200 is correctly framed');
    my $cl = $res->{h}{'content-length'};
    ok t_ok(!$cl || $cl->[0] == 0, 'an empty body has no Content-Length or 0');
    $res = raw('GET', '/response?case=no_content');
    ok t_cmp($res->{status} . ':' . $res->{body}, '204:', '204 has no body');
    $res = raw('GET', '/response?case=not_modified');
    ok t_cmp($res->{status} . ':' . $res->{body}, '304:', '304 has no body');
}

{
    my $res = raw('GET', '/write');
    my $expect = ('a' x 100000) . ('b' x 100000) . ('c' x 100000) . ('d' x 10);
    ok t_cmp(length $res->{body}, length $expect, 'write() of 300 000 bytes plus an iterable: length');
    ok t_ok($res->{body} eq $expect, 'write() output then iterable output, in order');
}

# --- wsgi.file_wrapper ----------------------------------------------------------------
my $blob = random_bytes(2_500_000 + 123, 2024);
{
    my $file = logs_dir() . '/wsl_blob.bin';
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh $blob;
    close $fh;
}
for my $case (['file', $blob, 'a real file (sendfile path)'],
              ['file_nocl', $blob, 'a real file without Content-Length'],
              ['file_offset', substr($blob, 1000), 'a real file after seek(1000): from the current position'],
              ['bytesio', $blob, 'an io.BytesIO (no fileno: iteration)'],
              ['filelike', $blob, 'an object with only read() and close()']) {
    my ($src, $expect, $name) = @$case;
    my $res = raw('GET', "/filewrap?src=$src");
    ok t_cmp($res->{status}, 200, "file_wrapper over $name: 200");
    ok t_cmp(sha256_hex($res->{body}) . ':' . length($res->{body}),
             sha256_hex($expect) . ':' . length($expect),
             "file_wrapper over $name: checksum and length");
}
{
    my $res = raw('HEAD', '/filewrap?src=file');
    ok t_cmp($res->{status} . ':' . length($res->{body}), '200:0',
             'HEAD with file_wrapper: no body');
    ok t_cmp($res->{h}{'content-length'}[0], length $blob,
             'HEAD with file_wrapper: the app\'s Content-Length');
}

# --- Content-Length is honoured -------------------------------------------------------
for my $case (['one', 'one 10-byte chunk'], ['many', 'three chunks']) {
    my ($q, $name) = @$case;
    my $res;
    my @log = log_during(sub { $res = raw('GET', "/clen?$q") }, want => qr/WSL\d+:/);
    ok t_cmp($res->{body} . '|' . ($res->{extra} // ''), '01234|',
             "Content-Length 5 with $name: only 5 bytes are sent");
    ok t_ok(scalar(wsgi_log_entries(@log)),
       "Content-Length 5 with $name: the extra bytes are logged");
}
{
    my $res = raw('GET', '/filewrap?src=file_short');
    ok t_cmp(length($res->{body}) . ':' . ($res->{extra} ? length $res->{extra} : 0),
             '1000:0',
             'file_wrapper with Content-Length 1000: only 1000 bytes are sent');
    ok t_ok($res->{body} eq substr($blob, 0, 1000),
       'file_wrapper with Content-Length 1000: the first 1000 bytes');
}
