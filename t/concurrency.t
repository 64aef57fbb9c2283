# concurrency.t: several clients at once (forked), a mix of slow GETs and
# 200 KB uploads, every answer matched to its own request; the requests
# must really overlap.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok random_bytes expected_mpm daemon_mode);

plan tests => 7, need_module 'mod_wsgi_lite.c';

my $clients = 8;
my $per_client = 5;
my $sleep = 0.4;

# Warm up every child so start-up cost does not count as serialisation.
my $warm = join "", map { GET_BODY("/slow?id=warm&sleep=0") } 1 .. 4;

my $t0 = Time::HiRes::time();
my @kids;
for my $c (1 .. $clients) {
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $rd;
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
        my @out;
        for my $i (1 .. $per_client) {
            my $id = "c${c}r$i";
            my $ok_get = 0;
            my $body = GET_BODY("/slow?id=$id&sleep=$sleep");
            $ok_get = 1 if $body =~ /^id=\Q$id\E pid=\d+ tid=\d+$/;
            my ($pidtid) = $body =~ /pid=(\d+ tid=\d+)/;
            my $data = random_bytes(200_000, $c * 100 + $i);
            my $res = POST('/echo_sha', content => $data,
                           'Content-Type' => 'application/octet-stream');
            my $j = eval { JSON::PP::decode_json($res->content) } || {};
            my $ok_post = ($j->{sha256} // '') eq sha256_hex($data) ? 1 : 0;
            push @out, join ' ', $id, $ok_get, $ok_post, $pidtid // '-';
        }
        print $wr join("\n", @out), "\n";
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    push @kids, [$pid, $rd];
}

my @results;
for my $k (@kids) {
    my ($pid, $rd) = @$k;
    local $/;
    my $out = <$rd> // '';
    push @results, grep length, split /\n/, $out;
    waitpid $pid, 0;
}
my $elapsed = Time::HiRes::time() - $t0;

ok t_cmp(scalar @results, $clients * $per_client, 'every client request got an answer');
ok t_cmp(scalar(grep { (split ' ')[1] } @results), $clients * $per_client,
         'every concurrent GET got its own answer (id matches)');
ok t_cmp(scalar(grep { (split ' ')[2] } @results), $clients * $per_client,
         'every concurrent 200 KB upload arrived intact (SHA-256 matches)');
my %ids = map { ((split ' ')[0] => 1) } @results;
ok t_cmp(scalar keys %ids, $clients * $per_client, 'no answer was duplicated');

# Serialised requests would take at least $serial; well under it shows
# they overlapped, with room for a loaded machine (the suite may share two
# cores with other work).
my $serial = $clients * $per_client * $sleep;
ok t_ok($elapsed < $serial * 0.7,
   sprintf('requests overlapped (%.1fs for %.1fs of sleeping)', $elapsed, $serial));

my %workers = map { my @f = split ' '; ("$f[3] $f[4]" => 1) } @results;
ok t_ok(keys(%workers) > 1, 'requests were served by more than one worker');
my %procs = map { ((split ' ')[3] => 1) } @results;
if (expected_mpm() eq 'prefork' && !daemon_mode()) {
    ok t_ok(keys(%procs) > 1, 'prefork: more than one process served them');
}
else {
    my %threads_in_one;
    for (@results) { my @f = split ' '; $threads_in_one{$f[3]}{$f[4]} = 1 }
    ok t_ok(grep({ keys(%{ $threads_in_one{$_} }) > 1 } keys %threads_in_one),
       'threaded MPM: one process served them on several threads');
}

use POSIX ();
