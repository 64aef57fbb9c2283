# errors.t: every kind of application error gives a 500 (or 404 for a
# missing script), one WSL-tagged error_log entry naming the request URI,
# the Python traceback in the log (never in the response), and a server
# that keeps answering.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok safe log_during wsgi_log_entries raw_request test_port);

# [ name, URI, what the log must also contain (regexp) or undef ]
my @cases = (
    ['app raises an exception', '/errors/raise.wsgi',
        qr/RuntimeError: wsl-marker-raise/],
    ['app returns None', '/errors/none.wsgi', undef],
    ['app returns a str', '/errors/str.wsgi', undef],
    ['app returns a list of str', '/errors/str_list.wsgi', undef],
    ['app yields a str', '/errors/yield_str.wsgi', undef],
    ['app never calls start_response', '/errors/no_start.wsgi', undef],
    ['start_response called twice without exc_info', '/errors/start_twice.wsgi', undef],
    ['script has a SyntaxError', '/errors/syntax.wsgi', qr/SyntaxError/],
    ['script raises while loading', '/errors/import_error.wsgi',
        qr/ImportError: wsl-marker-import/],
    ['script lacks the callable', '/errors/no_callable.wsgi', qr/application/],
    ['callable is not callable', '/errors/not_callable.wsgi', undef],
    (map { ["malformed status ($_)", "/errors/status.wsgi?$_", undef] }
        qw(no_reason no_code two_digits four_digits letters no_space bytes
           int crlf)),
    (map { ["bad header ($_)", "/errors/header.wsgi?$_", undef] }
        qw(int_value bytes_name bytes_value none_value not_tuple triple
           not_list space_name colon_name empty_name cr_value lf_value
           crlf_value nul_value non_latin1)),
    (map { ["hop-by-hop header ($_)", "/errors/header.wsgi?$_", undef] }
        qw(hop_connection hop_keep_alive hop_transfer_encoding hop_upgrade
           hop_te hop_trailer hop_proxy_authenticate hop_proxy_authorization
           hop_lower_case)),
);

plan tests => 7 * @cases + 14, need_module 'mod_wsgi_lite.c';

# httpd drops the connection after a 500, so "the same child" is checked by
# pid: the process that logged the error must still be alive and serving.

for my $case (@cases) {
    my ($name, $uri, $extra) = @$case;
    (my $path = $uri) =~ s/\?.*//;
    (my $script = $path) =~ s{.*/}{};
    my $res;
    my @log = log_during(sub { $res = safe(sub { GET($uri) }) }, want => qr/WSL\d+:/);
    ok t_cmp($res->code, 500, "$name: 500")
        or t_debug("response: " . substr($res->as_string, 0, 300));
    ok t_cmp($res->content, qr/^(?!.*(?:Traceback|should not be sent|wsl-marker))/s,
             "$name: no traceback or app output in the response body");
    ok t_ok(!grep(/^X-Injected/mi, $res->headers->as_string),
       "$name: nothing injected into the response headers");
    my @wsl = grep { index($_, $uri) >= 0 || index($_, $path) >= 0 }
              wsgi_log_entries(@log);
    ok t_ok(@wsl >= 1, "$name: a WSL-tagged error_log entry names the URI");
    if ($extra) {
        ok t_cmp(join('', @log), $extra, "$name: the log holds the Python error");
    }
    else {
        ok t_cmp(join('', @log), qr/Error|error|invalid|expected|must/,
                 "$name: the log says what was wrong");
    }
    my ($pid) = map { /\[pid (\d+)/ ? $1 : () } @wsl;
    ok t_ok($pid && kill(0, $pid), "$name: the child that failed is still running");
    ok t_cmp(safe(sub { GET('/hello') })->content, 'Hello World',
             "$name: the next request works");
}

# Tracebacks: the app's frames are in the log.
my $res;
my @log = log_during(sub { $res = GET('/errors/raise.wsgi') },
                     want => qr/wsl-marker-raise/);
ok t_cmp(join('', @log), qr/Traceback \(most recent call last\)/,
         'the log holds the "Traceback (most recent call last)" header');
ok t_cmp(join('', @log), qr/raise\.wsgi", line 2/,
         'the log holds the traceback line of the failing frame');
ok t_cmp(scalar(grep /RuntimeError: wsl-marker-raise/, @log), 1,
         'the exception is logged once');

# Errors while iterating, after start_response: either a 500 (nothing was
# sent yet) or a response cut short (connection closed, no final chunk).
my $raw;
@log = log_during(sub {
    $raw = raw_request("GET /errors/iter_error.wsgi HTTP/1.1\r\n"
                       . "Host: localhost:" . test_port() . "\r\n\r\n",
                       timeout => 20);
}, want => qr/wsl-marker-mid-body/);
ok t_cmp(join('', @log), qr/RuntimeError: wsl-marker-mid-body/,
         'an exception in the middle of the body is logged');
ok t_ok($raw->{status} == 500 || !$raw->{complete},
   'an exception mid-body gives a 500 or a visibly truncated response');
ok t_cmp(scalar(grep { /WSL\d+:/ && m{/errors/iter_error\.wsgi} } @log), qr/^[1-9]/,
         'the mid-body error entry names the URI');

@log = log_during(sub { $res = GET('/errors/close_error.wsgi') },
                  want => qr/wsl-marker-close/);
ok t_cmp($res->content, 'body before a failing close',
         'an exception in close() after the body does not change the body');
ok t_cmp(join('', @log), qr/RuntimeError: wsl-marker-close/,
         'an exception in close() is logged');

# Missing scripts: 404, not 500.
$res = GET('/missing_script');
ok t_cmp($res->code, 404, 'WSGIScriptAlias to a missing file gives 404');
$res = GET('/missing_script/with/path');
ok t_cmp($res->code, 404, 'missing script with path info gives 404');
$res = GET('/errors/does-not-exist.wsgi');
ok t_cmp($res->code, 404, 'SetHandler wsgi-script on a missing file gives 404');

# The errors did not crash any child.
my $errlog = Apache::Test::vars('t_logs') . '/error_log';
open my $fh, '<', $errlog or die "$errlog: $!";
my @crash = grep /exit signal|Segmentation fault|child pid \d+ exit/, <$fh>;
close $fh;
ok t_cmp("@crash", '', 'no child crashed (no "exit signal" in error_log)');

# After all of that, one child serves several good requests in a row.
my @pids = map { (split ' ', GET_BODY('/pid'))[0] // '' } 1 .. 3;
ok t_cmp(scalar(grep /^\d+$/, @pids), 3, 'the server still serves the pid probe');
ok t_cmp(GET_BODY('/hello'), 'Hello World', 'the server still says hello');
