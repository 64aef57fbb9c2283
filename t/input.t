# input.t: wsgi.input (PEP 3333 "Input and Error Streams"): read(),
# read(n), readline(), readline(n), readlines(), iteration, b'' past the
# end, unread bodies, LimitRequestBody and chunked bodies without
# WSGIChunkedRequest.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok post_json raw_request decode_json_body test_port);

plan tests => 29, need_module 'mod_wsgi_lite.c';

my $body = "first line\nsecond\n\nfourth line is longer\nno newline at end";
my @lines = ("first line\n", "second\n", "\n", "fourth line is longer\n",
             "no newline at end");

sub chunks {
    my ($query, $content) = @_;
    my $r = post_json("/input?$query", $content // $body,
                      'Content-Type' => 'application/octet-stream');
    return $r;
}

sub joined { join '|', map { my $s = $_; $s =~ s/\n/\\n/g; $s } @{ $_[0] || [] } }

my $r = chunks('op=read');
ok t_cmp(joined($r->{chunks}), joined([$body]), 'read() returns the whole body');
ok t_ok($r->{all_bytes}, 'read() returns bytes');

$r = chunks('op=readn&n=7');
my @expect = unpack '(a7)*', $body;
ok t_cmp(joined($r->{chunks}), joined(\@expect),
         'read(7) returns 7-byte pieces, a shorter last one, then b""');

$r = chunks('op=readn&n=100000');
ok t_cmp(joined($r->{chunks}), joined([$body]),
         'read(n) larger than the body returns all of it once');

$r = chunks('op=readline');
ok t_cmp(joined($r->{chunks}), joined(\@lines),
         'readline() returns one line at a time, keeping "\n"');
ok t_ok($r->{all_bytes}, 'readline() returns bytes');

$r = chunks('op=readline_n&n=4');
@expect = map { unpack '(a4)*', $_ } @lines;
ok t_cmp(joined($r->{chunks}), joined(\@expect),
         'readline(4) never returns more than 4 bytes and stops at "\n"');

$r = chunks('op=readlines');
ok t_cmp(joined($r->{chunks}), joined(\@lines), 'readlines() returns all lines');

$r = chunks('op=iter');
ok t_cmp(joined($r->{chunks}), joined(\@lines), 'iterating wsgi.input yields lines');
ok t_ok($r->{all_bytes}, 'iteration yields bytes');

$r = chunks('op=pastend');
ok t_cmp(joined($r->{chunks}), joined([$body, '', '', '']),
         'read(), read(5) and readline() past the end return b""');

$r = chunks('op=mixed');
ok t_cmp(joined($r->{chunks}),
         joined(["first line\n", "seco", "nd\n", "\nfourth line is longer\nno newline at end"]),
         'mixing readline(), read(n), readline(n) and read() keeps the position');

# A long line spanning several reads from Apache.
my $long = ('x' x 200_000) . "\n" . "tail";
$r = chunks('op=readline', $long);
ok t_cmp(join(',', map { length } @{ $r->{chunks} || [] }), '200001,4',
         'readline() returns a 200 001-byte line whole');

# Binary data, including CR, LF, NUL and bytes >= 0x80.
my $bin = join '', map { chr } 0 .. 255;
$r = chunks('op=read', $bin x 4);
ok t_cmp($r->{chunks} && $r->{chunks}[0], $bin x 4,
         'read() returns binary bytes unchanged');

$r = chunks('op=read', '');
ok t_cmp(joined($r->{chunks}), joined(['']), 'an empty body reads as b""');
ok t_cmp($r->{content_length} // '0', qr/^0?$/, 'an empty body has CONTENT_LENGTH 0 (or none)');

# The app reads only 3 bytes of a large body: the rest is discarded and the
# connection stays usable.
my $ua_res = POST('/input?op=partial&n=3', content => 'abc' . ('z' x 300_000));
my $p = decode_json_body($ua_res, 'partial');
ok t_cmp(joined($p->{chunks}), 'abc', 'an app may read only part of the body');
my $after = POST('/input?op=read', content => 'next request');
ok t_cmp(decode_json_body($after, 'after partial')->{chunks}[0], 'next request',
         'the request after a partly read body is answered correctly');

# GET without a body.
my $g = GET('/input?op=read');
ok t_cmp(decode_json_body($g, 'GET')->{chunks}[0], '', 'read() on a GET returns b""');

# A pipelined keep-alive pair where the first app leaves its body unread.
my $port = test_port();
my $req1 = "POST /input?op=partial&n=2 HTTP/1.1\r\nHost: localhost:$port\r\n"
         . "Content-Length: 10\r\nContent-Type: text/plain\r\n\r\n0123456789";
my $req2 = "POST /input?op=read HTTP/1.1\r\nHost: localhost:$port\r\n"
         . "Content-Length: 6\r\nContent-Type: text/plain\r\n"
         . "Connection: close\r\n\r\nsecond";
my $raw = raw_request($req1 . $req2);
my @bodies = $raw->{raw} =~ /(\{"chunks".*?\})/g;
ok t_cmp(scalar(@bodies), 2, 'two pipelined requests get two answers');
ok t_cmp($bodies[0] // '', qr/"chunks": \["01"\]/, 'first pipelined app read 2 bytes');
ok t_cmp($bodies[1] // '', qr/"chunks": \["second"\]/,
         'second pipelined request body is not polluted by the first');

# LimitRequestBody 10 on /limited_input.
my $lim = POST('/limited_input?op=read', content => '0123456789');
ok t_cmp($lim->code, 200, 'a body at LimitRequestBody is accepted');
ok t_cmp(decode_json_body($lim, 'limit ok')->{chunks}[0], '0123456789',
         'a body at LimitRequestBody is read whole');
$lim = POST('/limited_input?op=read', content => '0123456789A');
ok t_cmp($lim->code, 413, 'a body over LimitRequestBody gets 413');
ok t_cmp($lim->content, qr/^(?!.*"chunks")/s, 'the app does not answer an over-limit body');

# A chunked body over LimitRequestBody also gets 413 (limit checked while
# reading); needs WSGIChunkedRequest, which /limited_input does not have,
# so this one must be 411 instead.
my $chunked = "POST /limited_input?op=read HTTP/1.1\r\nHost: localhost:$port\r\n"
    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    . "5\r\nhello\r\n0\r\n\r\n";
$raw = raw_request($chunked);
ok t_cmp($raw->{status}, 411,
         'a chunked body without WSGIChunkedRequest On gets 411');

# Default (no WSGIChunkedRequest anywhere): 411, and the app is not run.
$chunked =~ s{/limited_input\?op=read}{/input?op=read};
$raw = raw_request($chunked);
ok t_cmp($raw->{status}, 411,
         'WSGIChunkedRequest defaults to Off: chunked body gets 411');
ok t_cmp($raw->{body}, qr/^(?!.*"chunks")/s, 'the app does not see a refused chunked body');
