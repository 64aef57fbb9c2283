# apps.t: well-known WSGI applications that Debian packages, each deployed
# the way its own mod_wsgi guide deploys it (t/conf/apps.conf.in, the
# .wsgi files in t/htdocs/apps/), each driven by a real client:
#
# - Mercurial's hgweb: `hg clone`, `hg push` (Apache Basic authentication,
#   hgweb's allow_push), `hg pull` over http://127.0.0.1;
# - Radicale: python3-caldav makes a calendar, saves and finds an event,
#   completes a to-do; plain WebDAV requests check authentication, the
#   per-user rights and a CardDAV address book;
# - graphite-web (Django): the render API over whisper files written here
#   (JSON, a function, a PNG graph), metric search, events stored in its
#   sqlite database, the browser page, and /static/ served by Apache.
#
# The applications' data lives in t/logs/apps/ (the test tree), made fresh
# by each run before the first request.  Every client command is bounded
# by timeout(1), each request by LWP's timeout, the file by alarm().
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Digest::SHA ();
use File::Path ();
use File::Spec ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use MIME::Base64 ();

use WSLTest qw(t_ok diag random_bytes need_debian_python);

plan tests => 46, need need_module('mod_wsgi_lite.c'),
    need_debian_python('apps.t (mercurial, python3-radicale, graphite-web)');

# Each request and command has its own timeout; this bounds the file.
$SIG{ALRM} = sub { diag('apps.t: 100 s deadline passed'); exit 1 };
alarm 100;

my $T = $FindBin::Bin;
my $DATA = File::Spec->catdir(Apache::Test::vars('t_logs'), 'apps');
File::Path::remove_tree($DATA);
File::Path::make_path($DATA);
my $ERROR_LOG = File::Spec->catfile(Apache::Test::vars('t_logs'), 'error_log');
my $LOG_START = -s $ERROR_LOG // 0;

my $PY = '/usr/bin/python3';
my $JSON = JSON::PP->new->canonical;

# Write a file; a failure is reported, not fatal, so that one application
# failing (a clone that did not happen) fails its own tests only.
sub spew {
    my ($file, $content) = @_;
    my $fh;
    unless (open $fh, '>:raw', $file) {
        diag("cannot write $file: $!");
        return 0;
    }
    print $fh $content;
    return close $fh;
}

sub slurp {
    my ($file) = @_;
    open my $fh, '<:raw', $file or return undef;
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content;
}

# Run a command (a list, no shell) with extra environment variables, under
# timeout(1): (exit status, stdout and stderr together).
sub run_cmd {
    my ($env, @cmd) = @_;
    local %ENV = (%ENV, %$env);
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die "dup: $!";
        open STDIN, '<', '/dev/null' or die "/dev/null: $!";
        exec 'timeout', '-k', '5', '30', @cmd or die "exec @cmd: $!";
    }
    local $/;
    my $output = <$out> // '';
    close $out;
    return ($? >> 8, $output);
}

sub json { my $c = shift; my $v = eval { $JSON->decode($c // '') }; $v }

sub basic { 'Basic ' . MIME::Base64::encode_base64(join(':', @_), '') }

# The port of a vhost of the test server, as an http://127.0.0.1 URL for
# the clients.
sub base_url {
    my ($vhost) = @_;
    Apache::TestRequest::module($vhost);
    my ($port) = Apache::TestRequest::hostport() =~ /:(\d+)$/;
    return "http://127.0.0.1:$port";
}

# One request (any method: WebDAV's too) to the application's vhost, on a
# fresh connection, redirects not followed, at most 20 seconds.
my $UA = LWP::UserAgent->new(keep_alive => 0, timeout => 20,
                             max_redirect => 0);
my $BASE;
sub request {
    my ($method, $path, %opt) = @_;
    my $req = HTTP::Request->new($method, "$BASE$path", $opt{headers} || []);
    $req->content($opt{content}) if defined $opt{content};
    return $UA->request($req);
}

# === Mercurial (hgweb) =====================================================
{
    my $base = $BASE = base_url('apps_hg');
    my $hg_dir = "$DATA/hg";
    my $served = "$hg_dir/repos/project";
    File::Path::make_path("$hg_dir/repos", "$hg_dir/work");
    spew("$hg_dir/client.hgrc",
         "[ui]\nusername = WSL Tester <wsl\@example.invalid>\n");
    my %hgenv = (HGRCPATH => "$hg_dir/client.hgrc", HGPLAIN => '1',
                 HGENCODING => 'utf-8');
    my $hg = sub { run_cmd(\%hgenv, '/usr/bin/hg', @_) };

    # The served repository: two files, one of them 1 MiB of binary, so a
    # clone and a push move more than one buffer each way.
    my $blob = random_bytes(1 << 20, 14);
    my ($rc, $out) = $hg->('init', $served);
    spew("$served/hello.txt", "Hello from hgweb under mod_wsgi_lite\n");
    spew("$served/blob.bin", $blob);
    ($rc, $out) = $hg->('-R', $served, 'commit', '-A', '-m', 'initial import')
        unless $rc;
    diag("setting up $served failed: $out") if $rc;

    # The wiki's hgweb.config: every repository under the directory, push
    # for the users Apache authenticated.
    spew("$hg_dir/hgweb.config", <<"CONF");
[paths]
/ = $hg_dir/repos/*

[web]
allow_push = alice
push_ssl = false
CONF

    my $res = request('GET', '/');
    ok t_cmp($res->code, 200, 'hgweb: the index page is 200');
    ok t_cmp($res->content, qr{href="/project/"},
             'hgweb: the index lists the repository (its URL from SCRIPT_NAME and PATH_INFO)');
    diag($res->content) unless $res->code == 200;

    my $clone = "$hg_dir/work/clone";
    ($rc, $out) = $hg->('clone', "$base/project", $clone);
    ok t_cmp($rc, 0, 'hg clone over HTTP succeeds');
    diag($out) if $rc;
    ok t_cmp(slurp("$clone/hello.txt") // '',
             "Hello from hgweb under mod_wsgi_lite\n",
             'hg clone: the text file arrived');
    ok t_cmp(Digest::SHA::sha1_hex(slurp("$clone/blob.bin") // ''),
             Digest::SHA::sha1_hex($blob),
             'hg clone: the 1 MiB binary file arrived intact');

    $res = request('GET', '/project/raw-file/tip/hello.txt');
    ok t_cmp($res->content, "Hello from hgweb under mod_wsgi_lite\n",
             'hgweb: raw-file serves the file at tip');

    # A second clone, for pull later.
    my $other = "$hg_dir/work/other";
    ($rc, $out) = $hg->('clone', "$base/project", $other);
    diag($out) if $rc;

    # A new changeset with a 200 KiB file, pushed: first anonymous (Apache
    # answers 401 to the unbundle POST), then as alice.
    my $notes = join '', map { "line $_ of the release notes\n" } 1 .. 7000;
    spew("$clone/NOTES.txt", $notes);
    ($rc, $out) = $hg->('-R', $clone, 'commit', '-A', '-m', 'add release notes');
    diag($out) if $rc;
    ($rc, $out) = $hg->('-R', $clone, 'push', "$base/project");
    my $refused = $rc != 0 && $out =~ /authorization/i;
    ok t_ok($refused, 'hg push without credentials is refused (401 from Apache)');
    diag("exit $rc: $out") unless $refused;
    # mallory is a user Apache knows but hgweb's allow_push does not: the
    # refusal comes from hgweb, so REMOTE_USER reached it.
    (my $mallory_base = $base) =~ s{^http://}{http://mallory:mallory-secret\@};
    ($rc, $out) = $hg->('-R', $clone, 'push', "$mallory_base/project");
    $refused = $rc != 0 && $out =~ /authorization failed/i;
    ok t_ok($refused, 'hg push as mallory is refused');
    diag("exit $rc: $out") unless $refused;
    # (With a Content-Length, as hg sends one: without, hgweb would answer
    # with a Connection header, which mod_wsgi_lite refuses.)
    my $res_m = request('POST', '/project?cmd=unbundle',
        headers => [Authorization => basic('mallory', 'mallory-secret'),
                    'Content-Type' => 'application/mercurial-0.1',
                    'Content-Length' => 6],
        content => 'HG10UN');
    ok t_ok(scalar($res_m->code == 401
                   && $res_m->content =~ /push not authorized/),
            'hgweb itself refuses mallory (REMOTE_USER reached allow_push)');
    (my $auth_base = $base) =~ s{^http://}{http://alice:alice-push-secret\@};
    ($rc, $out) = $hg->('-R', $clone, 'push', "$auth_base/project");
    ok t_cmp($rc, 0, 'hg push as alice succeeds');
    diag($out) if $rc;
    ($rc, $out) = $hg->('-R', $served, 'log', '-r', 'tip', '-T', '{desc}');
    ok t_cmp($out, 'add release notes',
             'hg push: the changeset is in the served repository');
    ($rc, $out) = $hg->('-R', $served, 'cat', '-r', 'tip', "$served/NOTES.txt");
    ok t_cmp(Digest::SHA::sha1_hex($out), Digest::SHA::sha1_hex($notes),
             'hg push: the pushed file is intact on the server');

    ($rc, $out) = $hg->('-R', $other, 'pull', '-u', "$base/project");
    ok t_cmp($rc, 0, 'hg pull -u over HTTP succeeds');
    diag($out) if $rc;
    ok t_cmp(Digest::SHA::sha1_hex(slurp("$other/NOTES.txt") // ''),
             Digest::SHA::sha1_hex($notes),
             'hg pull: the other clone has the pushed file');
}

# === Radicale (CalDAV / CardDAV) ===========================================
{
    my $base = $BASE = base_url('apps_radicale');
    my $rad = "$DATA/radicale";
    File::Path::make_path("$rad/collections");
    spew("$rad/users", "alice:alice-cal-secret\nbob:bob-cal-secret\n");
    spew("$rad/config", <<"CONF");
[auth]
type = htpasswd
htpasswd_filename = $rad/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $rad/collections

[logging]
level = warning
CONF
    my $alice = basic('alice', 'alice-cal-secret');

    my $res = request('PROPFIND', '/radicale/', headers => [Depth => 0]);
    ok t_cmp($res->code, 401, 'Radicale: PROPFIND without credentials is 401');
    ok t_cmp($res->header('WWW-Authenticate') // '', qr/^Basic realm=/,
             'Radicale: its own Basic challenge (WSGIPassAuthorization On)');

    my $uid = 'wsl-apps-event-1';
    my ($rc, $out) = run_cmd({}, $PY, "$T/apps/caldav_client.py",
                             "$base/radicale/", 'alice', 'alice-cal-secret',
                             $uid);
    my $cal = json($out) || { error => "not JSON (exit $rc): $out" };
    ok t_cmp($cal->{error} // 'none', 'none',
             'python3-caldav: the whole session ran without an error');
    diag($cal->{error}) if $cal->{error};
    ok t_cmp($cal->{calendars} // [], ['WSL test calendar'],
             'CalDAV: MKCALENDAR made the calendar, PROPFIND lists it');
    ok t_cmp($cal->{summary} // '', "Release planning \x{e9}t\x{e9}",
             'CalDAV: the event read back by UID (REPORT), UTF-8 intact');
    ok t_cmp($cal->{in_range} // [], [$uid],
             'CalDAV: a time-range REPORT finds the event');
    ok t_cmp($cal->{out_of_range} // -1, 0,
             'CalDAV: a time-range REPORT outside it finds nothing');
    ok t_ok(($cal->{todos_all} // 0) == 1 && ($cal->{todos_pending} // 1) == 0
            && ($cal->{todo_status} // '') eq 'COMPLETED',
            'CalDAV: a to-do saved, completed, and listed as completed');

    my ($path) = ($cal->{event_url} // '') =~ m{^https?://[^/]+(/.*)$};
    $path //= "/radicale/alice/wsl-test/$uid.ics";
    $res = request('GET', $path, headers => [Authorization => $alice]);
    ok t_cmp($res->code, 200, 'Radicale: GET of the event as alice is 200');
    ok t_cmp($res->content, qr/^SUMMARY:Release planning/m,
             'Radicale: the event is served as iCalendar');
    $res = request('GET', $path,
                   headers => [Authorization => basic('bob', 'bob-cal-secret')]);
    ok t_cmp($res->code, 403,
             'Radicale: bob may not read alice\'s calendar (owner_only)');

    my @stored = glob("$rad/collections/collection-root/alice/wsl-test/*.ics");
    ok t_ok(scalar(grep { (slurp($_) // '') =~ /^UID:\Q$uid\E\r?$/m } @stored),
            'Radicale: the event is stored in the test tree');

    # CardDAV, as a client without a library does it: an extended MKCOL,
    # a PUT of a vCard, a PROPFIND listing and a GET.
    my $book = '/radicale/alice/contacts/';
    $res = request('MKCOL', $book,
        headers => [Authorization => $alice,
                    'Content-Type' => 'application/xml; charset=utf-8'],
        content => <<'XML');
<?xml version="1.0" encoding="utf-8"?>
<mkcol xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <set><prop>
    <resourcetype><collection/><CR:addressbook/></resourcetype>
    <displayname>WSL contacts</displayname>
  </prop></set>
</mkcol>
XML
    ok t_cmp($res->code, 201, 'CardDAV: extended MKCOL makes an address book');
    my $vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:wsl-ann\r\n"
        . "FN:Ann Example\r\nN:Example;Ann;;;\r\n"
        . "EMAIL:ann\@example.invalid\r\nEND:VCARD\r\n";
    $res = request('PUT', "${book}ann.vcf",
        headers => [Authorization => $alice,
                    'Content-Type' => 'text/vcard; charset=utf-8'],
        content => $vcard);
    ok t_cmp($res->code, 201, 'CardDAV: PUT of a vCard is 201');
    $res = request('PROPFIND', $book,
        headers => [Authorization => $alice, Depth => 1]);
    ok t_ok(scalar($res->code == 207 && $res->content =~ m{\Q${book}ann.vcf\E}),
            'CardDAV: PROPFIND Depth 1 (207) lists the vCard');
    $res = request('GET', "${book}ann.vcf", headers => [Authorization => $alice]);
    ok t_cmp($res->content, qr/^FN:Ann Example\r?$/m,
             'CardDAV: GET returns the vCard');
}

# === graphite-web (Django) =================================================
{
    $BASE = base_url('apps_graphite');
    my $gr = "$DATA/graphite";
    File::Path::make_path("$gr/log", "$gr/conf", "$gr/whisper/wsl/test");
    my %genv = (GRAPHITE_SETTINGS_MODULE => 'local_settings',
                PYTHONPATH => "$T/htdocs/apps/graphite");

    # The sqlite database, as Debian's README.Debian says (graphite-manage).
    my ($rc, $out) = run_cmd(\%genv, '/usr/bin/graphite-manage', 'migrate',
                             '--run-syncdb', '-v', '0');
    diag("graphite-manage migrate: exit $rc: $out") if $rc;

    # Two whisper series, one point a minute for the last ten minutes.
    my $step = 60;
    my $now = int(time() / $step) * $step;
    my @ts = map { $now - (10 - $_) * $step } 0 .. 9;
    my %requests = map { $ts[$_] => 10 * $_ } 0 .. 9;
    my %errors = map { $ts[$_] => 1 } 0 .. 9;
    for ([requests => \%requests], [errors => \%errors]) {
        my ($name, $points) = @$_;
        my $wsp = "$gr/whisper/wsl/test/$name.wsp";
        ($rc, $out) = run_cmd({}, '/usr/bin/whisper-create', $wsp, "${step}s:1d");
        ($rc, $out) = run_cmd({}, '/usr/bin/whisper-update', $wsp,
            map { "$_:$points->{$_}" } sort keys %$points) unless $rc;
        diag("whisper $name: exit $rc: $out") if $rc;
    }
    # whisper starts a fetch at the first point after `from`.
    my $range = "from=" . ($ts[0] - $step) . "&until=$ts[-1]";

    my $res = request('GET', '/metrics/find?query=wsl.test.*');
    my $found = json($res->content) || [];
    ok t_cmp([sort map { $_->{text} // '' } @$found], ['errors', 'requests'],
             'graphite: /metrics/find lists the whisper series');
    diag($res->status_line, "\n", substr($res->content, 0, 2000))
        unless $res->code == 200;

    $res = request('GET', "/render?target=wsl.test.requests&format=json&$range");
    my $series = json($res->content) || [];
    my %got = map { $_->[1] => $_->[0] } @{ $series->[0]{datapoints} || [] };
    ok t_cmp($series->[0]{target} // '', 'wsl.test.requests',
             'graphite: /render format=json names the series');
    ok t_cmp([map { $got{$_} } @ts], [map { $requests{$_} } @ts],
             'graphite: /render returns the values written to whisper');

    $res = request('GET', "/render?target=sumSeries(wsl.test.*)&format=json&$range");
    $series = json($res->content) || [];
    %got = map { $_->[1] => $_->[0] } @{ $series->[0]{datapoints} || [] };
    ok t_cmp([map { $got{$_} } @ts], [map { $requests{$_} + 1 } @ts],
             'graphite: a render function (sumSeries) over a wildcard');

    $res = request('GET', "/render?target=wsl.test.requests&format=png"
                   . "&width=420&height=260&$range");
    my $png = $res->content // '';
    my ($w, $h) = length($png) > 24 ? unpack('NN', substr($png, 16, 8)) : (0, 0);
    ok t_cmp($res->header('Content-Type') // '', 'image/png',
             'graphite: a PNG graph (cairo) is image/png');
    ok t_ok(substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n" && $w == 420 && $h == 260,
            'graphite: the PNG is 420x260 as asked');

    $res = request('GET', '/');
    ok t_cmp($res->code, 200, 'graphite: the browser page is 200');
    ok t_cmp($res->content, qr{<title>Graphite Browser</title>},
             'graphite: the browser page comes from its Django template');

    my $css = '/static/css/default.css';
    $res = request('GET', $css);
    ok t_cmp(Digest::SHA::sha1_hex($res->content // ''),
             Digest::SHA::sha1_hex(slurp("/usr/share/graphite-web$css") // 'none'),
             'graphite: /static/ is served by Apache (Alias), not Django');

    $res = request('POST', '/events/',
        headers => ['Content-Type' => 'application/json'],
        content => '{"what": "wsl deploy", "tags": "wsl apps", "data": "r1"}');
    ok t_cmp($res->code, 200, 'graphite: POST /events/ stores an event');
    diag(substr($res->content, 0, 2000)) unless $res->code == 200;
    $res = request('GET', '/events/get_data?tags=wsl');
    my $events = json($res->content) || [];
    ok t_cmp([map { $_->{what} } @$events], ['wsl deploy'],
             'graphite: the event is read back from its sqlite database');
    ok t_cmp($events->[0]{tags} // [], ['wsl', 'apps'],
             'graphite: with its tags (django-tagging)');

    $res = request('GET', '/version');
    ok t_cmp($res->content, qr/^\d+\.\d+\.\d+$/, 'graphite: /version');
    $res = request('GET', '/no/such/view');
    ok t_cmp($res->code, 404, 'graphite: an unknown URL is Django\'s 404');
}

# === Sanity: nothing above crashed a child =================================
{
    my $log = substr(slurp($ERROR_LOG) // '', $LOG_START);
    my @crashes = $log =~ /^.*(?:exit signal|Segmentation fault).*$/mg;
    ok t_cmp(scalar(@crashes), 0, 'no child died on a signal during apps.t');
    diag(join "\n", @crashes) if @crashes;
    ok t_ok(-d "$DATA/hg" && -d "$DATA/radicale" && -d "$DATA/graphite",
            'the applications\' data stayed in the test tree');
}
