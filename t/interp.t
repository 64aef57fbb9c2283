# interp.t: WSGIApplicationGroup and the per-alias application-group= and
# callable-object= options.  Scripts in different groups have their own
# interpreters (their own copy of a shared helper module); scripts in
# %{GLOBAL} share the main interpreter's sys.modules, also when the same
# worker threads have served sub-interpreters in between; C extension
# modules (_json, _sqlite3, _hashlib, _ssl) work in both kinds.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok get_json test_port expected_mpm);

plan tests => 36, need_module 'mod_wsgi_lite.c';

my $port = test_port();
my $token = "t$$";

# --- group names ------------------------------------------------------------
my $j = get_json('/interp/a');
ok t_cmp($j->{group}, 'wsl-interp-a', 'application-group=NAME on WSGIScriptAlias');
ok t_cmp(get_json('/interp/g1')->{group}, '',
         'application-group=%{GLOBAL}: the main interpreter (group "")');
ok t_cmp(get_json('/interp/env')->{group}, 'wsl-from-env',
         'WSGIApplicationGroup %{ENV:VAR} takes the name from SetEnv');
ok t_cmp(get_json('/interp/env_unset')->{group}, '',
         '%{ENV:VAR} of an unset variable: the main interpreter');
ok t_cmp(get_json('/interp/optwins')->{group}, 'wsl-interp-b',
         'the alias option application-group= wins over WSGIApplicationGroup in a <Location>');
ok t_cmp(get_json('/interp/dirgroup')->{group}, "localhost:$port",
         'WSGIApplicationGroup %{SERVER} in a <Directory> applies to an alias into it');
ok t_cmp(get_json('/interp/state.wsgi')->{group}, "localhost:$port",
         'WSGIApplicationGroup %{SERVER} in a <Directory> (AddHandler)');
my $r = GET('/interp/other');
ok t_cmp($r->content, 'other other wsl-interp-a',
         'callable-object=NAME on WSGIScriptAlias picks the callable');
Apache::TestRequest::module('wsl_interp_vhost');
my $vport = test_port();
ok t_cmp(get_json('/state')->{group}, 'wsl-vhost-group',
         'WSGIApplicationGroup at <VirtualHost> level');
Apache::TestRequest::module('default');

# --- isolation and sharing -------------------------------------------------------
# Every request appends a tag to wsl_interp_state.hits of its interpreter.
# Many fresh connections, so several processes (and, under event, several
# threads of each) serve every URL; results are compared per process.
my %urls = (a => '/interp/a', a2 => '/interp/a2', b => '/interp/b',
            g1 => '/interp/g1', g2 => '/interp/g2');
my (%by, @all);    # $by{$pid}{$name} = [responses]
for my $i (1 .. 30) {
    for my $name (qw(a b g1 g2 a2)) {
        my $x = get_json("$urls{$name}?tag=$name-$token");
        next unless defined $x->{pid};
        $x->{name} = $name;
        $x->{seq} = scalar @all;
        push @all, $x;
        push @{ $by{ $x->{pid} }{$name} }, $x;
    }
}
ok t_cmp(scalar(@all), 150, '(setup) all 150 requests answered');

my (%leak, %share_fail, %mod_ids, %sysmods);
my ($pids_ab, $pids_g, $pids_aa2) = (0, 0, 0);
for my $pid (keys %by) {
    my $p = $by{$pid};
    for my $name (keys %$p) {
        for my $x (@{ $p->{$name} }) {
            my %tags = map { (/^(\w+)-/)[0] => 1 } @{ $x->{hits} || [] };
            my $group_of = $name =~ /^a/ ? 'a' : $name =~ /^g/ ? 'g' : 'b';
            for my $t (keys %tags) {
                my $tg = $t =~ /^a/ ? 'a' : $t =~ /^g/ ? 'g' : 'b';
                $leak{"$name saw $t"}++ if $tg ne $group_of;
            }
            $mod_ids{$pid}{$group_of}{ $x->{shared_id} } = 1;
            $sysmods{$pid}{$group_of}{ $x->{modules_id} } = 1;
            $share_fail{"$name: module object differs from sys.modules"}++
                unless $x->{same_module};
        }
    }
    if ($p->{a} && $p->{b}) { $pids_ab++ }
    if ($p->{g1} && $p->{g2}) { $pids_g++ }
    if ($p->{a} && $p->{a2}) { $pids_aa2++ }
}
ok t_ok($pids_ab && $pids_g && $pids_aa2,
        '(setup) some processes served both URLs of each pair');
ok t_cmp(join(', ', sort keys %leak), '',
         'no interpreter sees the module globals of another group');
ok t_cmp(join(', ', sort keys %share_fail), '',
         'the script\'s imported module is the one in its sys.modules');

# Within one process: one helper-module object (and one sys.modules) per
# group, different between groups.
my ($one_per_group, $distinct, $checked) = (1, 1, 0);
for my $pid (keys %mod_ids) {
    my @groups = keys %{ $mod_ids{$pid} };
    my %ids;
    for my $g (@groups) {
        my @ids = keys %{ $mod_ids{$pid}{$g} };
        my @sm = keys %{ $sysmods{$pid}{$g} };
        $one_per_group = 0 unless @ids == 1 && @sm == 1;
        $ids{$_}++ for @ids;
    }
    $distinct = 0 if grep { $_ > 1 } values %ids;
    $checked++ if @groups >= 2;
}
ok t_ok($checked, '(setup) processes that ran several groups');
ok t_ok($one_per_group,
        'each group has one sys.modules and one copy of the helper module per process');
ok t_ok($distinct, 'different groups have different copies of the helper module');

# Two different scripts in the same group see each other's appends; so do
# the two %{GLOBAL} scripts, which is the main interpreter's sys.modules.
sub cross_seen {
    my ($reader, $writer) = @_;
    my ($ok, $n) = (0, 0);
    for my $pid (keys %by) {
        my $p = $by{$pid};
        next unless $p->{$reader} && $p->{$writer};
        # The last response of the reader in this process, if it came
        # after a writer response there: must include the writer's tag.
        my $last = $p->{$reader}[-1];
        next unless $last->{seq} > $p->{$writer}[0]{seq};
        $n++;
        $ok++ if grep { $_ eq "$writer-$token" } @{ $last->{hits} || [] };
    }
    return ($ok, $n);
}
my ($ok, $n) = cross_seen('g2', 'g1');
ok t_ok($n && $ok == $n, "%{GLOBAL}: state2.wsgi sees what state.wsgi appended ($ok of $n processes)");
($ok, $n) = cross_seen('g1', 'g2');
ok t_ok($n && $ok == $n, "%{GLOBAL}: state.wsgi sees what state2.wsgi appended ($ok of $n processes)");
($ok, $n) = cross_seen('a2', 'a');
ok t_ok($n && $ok == $n, "a named group: two scripts share the helper module ($ok of $n processes)");
my $glob_same = 1;
for my $pid (keys %by) {
    my $p = $by{$pid};
    next unless $p->{g1} && $p->{g2};
    my %ids = map { $_->{shared_id} => 1 } @{ $p->{g1} }, @{ $p->{g2} };
    my %sm = map { $_->{modules_id} => 1 } @{ $p->{g1} }, @{ $p->{g2} };
    $glob_same = 0 unless keys(%ids) == 1 && keys(%sm) == 1;
}
ok t_ok($glob_same, '%{GLOBAL}: both scripts see one sys.modules and one module object');

# Threads that served several groups (under a threaded MPM the same worker
# threads go from sub-interpreters to the main one and back).
my %thread_groups;
for my $x (@all) {
    my $g = $x->{name} =~ /^a/ ? 'a' : $x->{name} =~ /^g/ ? 'g' : 'b';
    $thread_groups{"$x->{pid}/$x->{thread}"}{$g} = 1;
}
my $multi = grep { keys(%$_) >= 2 } values %thread_groups;
my $multi_g = grep { $_->{g} && keys(%$_) >= 2 } values %thread_groups;
ok t_ok($multi && $multi_g,
        "(setup) $multi threads served several groups, $multi_g of them also %{GLOBAL}");

# Once more, after all that thread switching: a fresh tag through g1 must
# be visible through g2 in the same process.
my %g1pids;
for (1 .. 20) {
    my $x = get_json("/interp/g1?tag=late-$token");
    $g1pids{ $x->{pid} } = 1 if defined $x->{pid};
}
my ($late_ok, $late_n) = (0, 0);
for (1 .. 20) {
    my $x = get_json('/interp/g2');
    next unless defined $x->{pid} && $g1pids{ $x->{pid} };
    $late_n++;
    $late_ok++ if grep { $_ eq "late-$token" } @{ $x->{hits} || [] };
}
ok t_ok($late_n && $late_ok == $late_n,
        "after threads switched groups, %{GLOBAL} scripts still share sys.modules ($late_ok of $late_n)");
my $late_a = get_json('/interp/a');
ok t_ok(!grep({ /^(?:late|g\d)-/ } @{ $late_a->{hits} || [] }) && defined $late_a->{pid},
        'and the named group still does not see the %{GLOBAL} state');

# --- C extension modules ---------------------------------------------------------
for my $case (['/interp/ext_a', 'sub-interpreter wsl-ext-a'],
              ['/interp/ext_b', 'second sub-interpreter wsl-ext-b'],
              ['/interp/ext_g', 'main interpreter']) {
    my ($url, $what) = @$case;
    my ($x, $res);
    my @bad;
    for (1 .. 6) {    # several processes / threads
        ($x, $res) = get_json($url);
        push @bad, $res->code unless $res->code == 200;
    }
    ok t_cmp(join(',', @bad), '', "$what: C extensions load and run (every request 200)");
    ok t_ok($x->{json_c_scanner} && $x->{json_c_scanstring}
            && ref $x->{json_roundtrip} eq 'HASH'
            && ($x->{json_roundtrip}{a}[2] // '') eq "x\x{e9}",
            "$what: json uses its C accelerator _json and round-trips");
    ok t_cmp(($x->{sqlite_sum} // 'none') . ' ' . ($x->{sha256} // 'none'),
             '55 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
             "$what: sqlite3 in-memory query and hashlib.sha256");
    ok t_ok($x->{ssl_verify} && $x->{ssl_openssl}
            && ($x->{md5} // '') eq '900150983cd24fb0d6963f7d28e17f72',
            "$what: ssl.create_default_context and hashlib.md5 (OpenSSL)");
}

# --- PyGILState_* in %{GLOBAL} -------------------------------------------------
# After the same worker threads served sub-interpreters above.  A broken
# GIL-state binding deadlocks in Ensure(): the short timeout turns that
# into a failure instead of a hung suite.
{
    my $ua = Apache::TestRequest::user_agent(reset => 1, timeout => 15);
    my %bodies;
    for (1 .. 12) {
        my $res = GET('/interp/gilstate');
        $bodies{ $res->code . ' ' . $res->content }++;
    }
    Apache::TestRequest::user_agent(reset => 1);
    ok t_cmp(join(' | ', sort keys %bodies), '200 check=1 ensure=0 thread=[1]',
             'PyGILState_Check/Ensure/Release work in %{GLOBAL} on worker threads (and in an app thread)');
}
