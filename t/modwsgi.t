# modwsgi.t: what an application learns from `import mod_wsgi` and
# `import apache`, and the mod_wsgi.* environ keys, with mod_wsgi 4.9.4's
# names, types and formats.
#
# - every attribute of both modules, with its type and value, in %{GLOBAL}
#   and in a sub-interpreter; `mod_wsgi is mod_wsgi_lite`, and both are in
#   sys.modules before a script imports anything;
# - request_data() inside a request (also while the script loads) and from
#   a thread of the application's (RuntimeError); active_requests holds the
#   running request; process_metrics() and request_metrics() report this
#   process; server_metrics() is None unless WSGIServerMetrics On;
# - a subscriber registered at import sees request_started,
#   response_started, request_exception (with the exception) and
#   request_finished, in that order, with sane values; a callback can
#   replace the application; one that raises is logged and the request
#   still answers;
# - the mod_wsgi.* environ keys: types, values, request_start in
#   microseconds, thread_requests increasing, request_id as Apache logs it
#   with %L; WSGIEnableSendfile and WSGIIgnoreActivity show there, and
#   file_wrapper answers the same either way;
# - a server of the test's own with WSGIServerMetrics On: server_metrics()
#   reads the scoreboard, and at stop process_stopping reaches an event
#   and a shutdown subscriber in each interpreter of each child;
# - one with two daemon groups (and a third with server-metrics=Off):
#   server_metrics()['daemon_groups'] in a daemon of either group and in
#   an Apache child lists every group from the status board, with the
#   pids of their processes, 'serving', request counts that rise after
#   requests; None in the group with server-metrics=Off; after a
#   graceful restart a daemon reads Apache's scoreboard too.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok get_json post_json test_port expected_mpm logs_dir
               log_during wait_until diag daemon_mode);
use WSLServer ();

plan tests => 179, need_module 'mod_wsgi_lite.c';

my $mpm = expected_mpm();
my $port = test_port();
my $docroot = Apache::Test::vars('documentroot');
my $token = "t$$";
# t/conf/extra.conf.in: ThreadsPerChild 10 under event; prefork has none.
# In t/run.sh's daemon mode the mod_wsgi module reports the daemon
# group's (wsl-suite: 1 process of 40 threads), as mod_wsgi does, and
# the apache module still Apache's own.
my $daemon = daemon_mode();
my $mpm_threads = $mpm eq 'prefork' ? 1 : 10;
my $threads = $daemon ? 40 : $mpm_threads;
my $group_name = $daemon ? 'wsl-suite' : '';

# What the running Apache says of itself.
my $httpd = Apache::Test::vars('httpd');
my $v_out = `"$httpd" -v 2>&1`;
my ($ap_ver) = $v_out =~ m{Server version:\s*Apache/(\d+\.\d+\.\d+)};
my ($ap_built) = $v_out =~ m{Server built:\s*(.+?)\s*$}m;
my @ap_ver = split /\./, $ap_ver // '';

sub jbool { $_[0] ? 'true' : 'false' }

# --- the modules, in %{GLOBAL} and in a sub-interpreter --------------------------
for my $case (['main', '/modwsgi/attrs_main', ''],
              ['sub', '/modwsgi/attrs_sub', 'wsl-mw-sub']) {
    my ($where, $url, $group) = @$case;
    my $j = get_json($url);
    my $m = $j->{mod} || {};
    my $a = $j->{apache} || {};

    ok t_cmp(join(' ', map { "$_=" . jbool($j->{at_import}{$_}) }
                  qw(mod_wsgi mod_wsgi_lite apache)),
             'mod_wsgi=true mod_wsgi_lite=true apache=true',
             "$where: mod_wsgi, mod_wsgi_lite and apache are in sys.modules before the script imports anything");
    ok t_cmp(join(' ', map { "$_=" . jbool($j->{in_request}{$_}) }
                  qw(mod_wsgi mod_wsgi_lite apache)),
             'mod_wsgi=true mod_wsgi_lite=true apache=true',
             "$where: \"mod_wsgi\" in sys.modules while a request runs");
    ok t_ok($j->{same_module},
            "$where: mod_wsgi is mod_wsgi_lite (one object under both names)");
    ok t_cmp($j->{name}, 'mod_wsgi_lite', "$where: the module's own name stays mod_wsgi_lite");
    ok t_cmp("@{ $j->{mod_missing} || ['?'] }", '',
             "$where: every mod_wsgi 4.9.4 attribute is there");
    ok t_cmp(JSON::PP->new->canonical->encode($m->{version} || []),
             '["tuple",[["int",4],["int",9],["int",4]]]',
             "$where: mod_wsgi.version is the tuple (4, 9, 4), the mod_wsgi API provided");
    ok t_cmp(JSON::PP->new->canonical->encode($j->{lite_version} || []),
             '["tuple",[["int",0],["int",1],["int",0]]]',
             "$where: mod_wsgi.lite_version is this module's own version, (0, 1, 0)");
    ok t_ok($j->{lite_version_is_environs},
            "$where: mod_wsgi.lite_version is environ['mod_wsgi_lite.version']");
    ok t_cmp("@{ $m->{process_group} || [] }", "str $group_name",
             "$where: mod_wsgi.process_group is '$group_name' ("
             . ($daemon ? 'its daemon group' : 'embedded mode') . ')');
    ok t_cmp(join('|', @{ $m->{application_group} || [] }), "str|$group",
             "$where: mod_wsgi.application_group is the interpreter's group");
    ok t_cmp(join('|', @{ $m->{threads_per_process} || [] }), "int|$threads",
             "$where: mod_wsgi.threads_per_process is the "
             . ($daemon ? "group's" : "MPM's") . " ($threads)");
    my $maxp = $m->{maximum_processes} || [];
    ok t_ok(($maxp->[0] // '') eq 'int' && ($maxp->[1] // 0) >= 1,
            "$where: mod_wsgi.maximum_processes is an int >= 1 (got @$maxp)");
    ok t_cmp(join('|', @{ $m->{FileWrapper} || [] }), 'type|FileWrapper',
             "$where: mod_wsgi.FileWrapper is a type");
    ok t_ok($j->{file_wrapper_is_environs},
            "$where: mod_wsgi.FileWrapper is environ['wsgi.file_wrapper']");
    ok t_cmp(join(' ', map { $m->{$_}[0] // '?' }
                  qw(subscribe_events subscribe_shutdown request_data
                     server_metrics process_metrics request_metrics)),
             join(' ', ('builtin_function_or_method') x 6),
             "$where: subscribe_*, request_data and the *_metrics are functions");
    ok t_cmp(join(' ', map { join '|', @{ $m->{$_} || [] } }
                  qw(event_callbacks shutdown_callbacks)),
             'list|0 list|0',
             "$where: event_callbacks and shutdown_callbacks are empty lists (no subscriber here)");
    ok t_cmp($m->{active_requests}[0] // '', 'dict',
             "$where: mod_wsgi.active_requests is a dict");

    ok t_cmp("@{ $j->{apache_missing} || ['?'] }", '',
             "$where: every attribute of mod_wsgi's apache module is there");
    ok t_cmp(JSON::PP->new->canonical->encode($a->{version} || []),
             JSON::PP->new->canonical->encode(
                 ['tuple', [map { ['int', 0 + $_] } @ap_ver]]),
             "$where: apache.version is the running Apache's ($ap_ver) as a tuple of ints");
    ok t_ok(($a->{description}[0] // '') eq 'str' &&
            index($a->{description}[1] // '', "Apache/$ap_ver") == 0,
            "$where: apache.description is the server description ("
            . ($a->{description}[1] // '') . ')');
    ok t_cmp(join('|', @{ $a->{mpm_name} || [] }), "str|$mpm",
             "$where: apache.mpm_name is the MPM that runs");
    ok t_cmp(join('|', @{ $a->{build_date} || [] }), "str|" . ($ap_built // '?'),
             "$where: apache.build_date is what httpd -v says");
    if ($daemon) {
        ok t_cmp(join(' ', map { join '|', @{ $m->{$_} || [] } }
                      qw(maximum_processes threads_per_process)),
                 'int|1 int|40',
                 "$where: mod_wsgi's process and thread counts are the group's, "
                 . "apache's Apache's (mod_wsgi's rule)");
    }
    else {
        ok t_cmp(join(' ', map { join '|', @{ $a->{$_} || [] } }
                      qw(maximum_processes threads_per_process)),
                 join(' ', map { join '|', @{ $m->{$_} || [] } }
                      qw(maximum_processes threads_per_process)),
                 "$where: apache's process and thread counts are mod_wsgi's");
    }
    ok t_ok($j->{environ_versions_match},
            "$where: environ's mod_wsgi.version and apache.version are the modules'");

    # request_data() and active_requests
    ok t_cmp($j->{data_type}, 'dict', "$where: request_data() is a dict in a request");
    ok t_ok($j->{data_same}, "$where: request_data() is the same dict on each call");
    ok t_ok($j->{active_is_data},
            "$where: active_requests[request_id] is the request's request_data()");
    ok t_cmp($j->{import_data}, 'dict',
             "$where: request_data() answers while the script loads in a request");
    ok t_cmp($j->{outside}, 'RuntimeError: no active request for thread',
             "$where: request_data() from the application's own thread raises RuntimeError");
    my $j2 = get_json($url);
    ok t_ok(!grep({ $_ eq $j->{request_id} } @{ $j2->{active_keys} || [] })
            && grep({ $_ eq $j2->{request_id} } @{ $j2->{active_keys} || [] }),
            "$where: a finished request has left active_requests, the running one is in it");

    # process_metrics()
    my $pm = $j->{process_metrics} || {};
    my %want_pm = (pid => 'int', request_busy_time => 'float',
                   request_count => 'int', memory_max_rss => 'int',
                   memory_rss => 'int', cpu_user_time => 'float',
                   cpu_system_time => 'float', restart_time => 'float',
                   current_time => 'float', running_time => 'int',
                   request_threads => 'int', active_requests => 'int',
                   threads => 'list');
    # A daemon adds its group as mod_status shows it (t/daemon_lifecycle.t).
    $want_pm{daemon_group} = 'dict' if $daemon;
    ok t_cmp(JSON::PP->new->canonical->encode($pm->{types} || {}),
             JSON::PP->new->canonical->encode(\%want_pm),
             "$where: process_metrics() has mod_wsgi's fields and types"
             . ($daemon ? ', and daemon_group' : ''));
    ok t_cmp($pm->{pid}, $j->{pid}, "$where: process_metrics()['pid'] is this process");
    ok t_ok(($pm->{active_requests} // 0) >= 1,
            "$where: process_metrics() counts the running request as active");
    my @tids = map { $_->{thread_id} } @{ $pm->{threads} || [] };
    ok t_ok(($pm->{request_threads} // -1) == @tids &&
            grep({ $_ == $j->{thread_id} } @tids),
            "$where: process_metrics() lists the threads that ran requests, this one included (@tids)");
    my $now = Time::HiRes::time();
    ok t_ok(($pm->{restart_time} // 1e99) <= ($pm->{current_time} // 0) &&
            abs(($pm->{current_time} // 0) - $now) < 5 &&
            ($pm->{running_time} // -1) >= 0 &&
            ($pm->{memory_rss} // 0) > 0 && ($pm->{memory_max_rss} // 0) > 0,
            "$where: process_metrics() times and memory are sane");
    ok t_cmp($j->{server_metrics}, 'None',
             "$where: server_metrics() is None without WSGIServerMetrics On");

    # request_metrics(): the second of two calls in a row is a sample.
    my ($rm1, $rm2) = @{ $j->{request_metrics} || [] };
    my %want_rm = map { $_ => 'float' } qw(start_time stop_time sample_period
        cpu_user_time cpu_system_time capacity_utilization request_throughput
        server_time application_time);
    $want_rm{$_} = 'int' for qw(pid memory_max_rss memory_rss
        request_threads_maximum request_threads_started request_count
        request_threads_active);
    $want_rm{$_} = 'list' for qw(server_time_buckets queue_time_buckets
        daemon_time_buckets application_time_buckets request_threads_buckets);
    $want_rm{$_} = 'NoneType' for qw(queue_time daemon_time);
    ok t_cmp(JSON::PP->new->canonical->encode($rm2 || {}),
             JSON::PP->new->canonical->encode(\%want_rm),
             "$where: request_metrics() has mod_wsgi's embedded-mode fields and types");
    ok t_ok(ref $rm1 eq 'HASH',
            "$where: request_metrics() returns a dict (the first call in a process an empty one)");
    ok t_cmp(JSON::PP->new->canonical->encode($j->{request_metrics_lengths} || {}),
             JSON::PP->new->canonical->encode({
                 server_time_buckets => 16, queue_time_buckets => 16,
                 daemon_time_buckets => 16, application_time_buckets => 16,
                 request_threads_buckets => $threads }),
             "$where: request_metrics() buckets: 16 per time, one per thread");
    ok t_cmp(($j->{request_metrics_values}{request_threads_maximum} // '?')
             . ' ' . ($j->{request_metrics_values}{pid} // '?'),
             "$threads $j->{pid}",
             "$where: request_metrics() threads maximum and pid");
}

# --- the mod_wsgi.* environ keys ---------------------------------------------------
my %str_keys = map { ("mod_wsgi.$_" => 'str') } qw(process_group
    application_group callable_object request_handler handler_script
    script_reloading enable_sendfile ignore_activity listener_host
    listener_port request_start script_start request_id script_name
    path_info);
my %all_keys = (%str_keys, 'mod_wsgi.thread_id' => 'int',
                'mod_wsgi.thread_requests' => 'int',
                'mod_wsgi.total_requests' => 'int',
                'mod_wsgi.version' => 'tuple', 'apache.version' => 'tuple');
# mod_wsgi's daemon mode adds these (microsecond clock strings, counts).
$all_keys{"mod_wsgi.$_"} = 'str'
    for $daemon ? qw(queue_start daemon_start daemon_connects
                     daemon_restarts) : ();

my $t0 = Time::HiRes::time();
my $e = get_json("/modwsgi/env/extra/path?idcheck-$token");
my $t1 = Time::HiRes::time();
my $k = $e->{keys} || {};
my %got_types = map { $_ => $k->{$_}[0] } grep { $_ ne 'mod_wsgi.connection_id' } keys %$k;
ok t_cmp(JSON::PP->new->canonical->encode(\%got_types),
         JSON::PP->new->canonical->encode(\%all_keys),
         'the environ has mod_wsgi 4.9.4\'s ' . ($daemon ? 'daemon' : 'embedded')
         . '-mode mod_wsgi.* keys, with its types');
ok t_ok(!exists $k->{'mod_wsgi.connection_id'} ||
        $k->{'mod_wsgi.connection_id'}[0] eq 'str',
        'mod_wsgi.connection_id: only when Apache made a connection id, then a str');
ok t_ok($daemon ? exists $k->{'mod_wsgi.queue_start'}
                : !exists $k->{'mod_wsgi.queue_start'},
        'mod_wsgi.queue_start in daemon mode only, as mod_wsgi sets it');
my %v = map { $_ => $k->{$_}[1] } keys %$k;
ok t_cmp(join('|', map { $v{"mod_wsgi.$_"} // '?' }
              qw(process_group application_group callable_object
                 request_handler handler_script script_reloading
                 enable_sendfile ignore_activity)),
         "$group_name|wsl-mw-sub|application|wsgi-script||1|0|0",
         'mod_wsgi.* configuration values: process_group, application_group, callable_object, request_handler, handler_script, script_reloading, enable_sendfile, ignore_activity');
ok t_cmp(($v{'mod_wsgi.listener_host'} // '?') . ':' . ($v{'mod_wsgi.listener_port'} // '?'),
         "0.0.0.0:$port",
         'mod_wsgi.listener_host and listener_port are the Listen address the request came in on');
ok t_cmp(($v{'mod_wsgi.script_name'} // '?') . ' ' . ($v{'mod_wsgi.path_info'} // '?'),
         "$e->{SCRIPT_NAME} $e->{PATH_INFO}",
         'mod_wsgi.script_name and path_info are SCRIPT_NAME and PATH_INFO');
ok t_cmp("$e->{SCRIPT_NAME} $e->{PATH_INFO}", '/modwsgi/env /extra/path',
         '(SCRIPT_NAME and PATH_INFO of that request)');
my $rs = $v{'mod_wsgi.request_start'} // '';
my $ss = $v{'mod_wsgi.script_start'} // '';
ok t_ok(scalar($rs =~ /^\d{16}$/ && $ss =~ /^\d{16}$/),
        "mod_wsgi.request_start and script_start are microseconds since the epoch, as digits ($rs, $ss)");
ok t_ok($rs =~ /^\d+$/ && abs($rs / 1e6 - ($t0 + $t1) / 2) < 1 + ($t1 - $t0),
        'mod_wsgi.request_start is within a second of now');
ok t_ok($rs =~ /^\d+$/ && $ss =~ /^\d+$/ && $rs <= $ss && $ss <= $e->{now},
        'request_start <= script_start <= the time the application ran');
ok t_cmp($rs, $e->{lite}{'mod_wsgi_lite.request_start'} // '?',
         'mod_wsgi.request_start equals mod_wsgi_lite.request_start');
ok t_cmp(JSON::PP->new->canonical->encode($k->{'mod_wsgi.version'} || []),
         '["tuple",[["int","int","int"],[4,9,4]]]',
         "environ['mod_wsgi.version'] is (4, 9, 4)");
ok t_cmp(JSON::PP->new->canonical->encode($k->{'apache.version'} || []),
         JSON::PP->new->canonical->encode(['tuple', [['int', 'int', 'int'],
                                                     [map { 0 + $_ } @ap_ver]]]),
         "environ['apache.version'] is the running Apache's");
my $tid = $v{'mod_wsgi.thread_id'} // 0;
ok t_ok($tid >= 1 && $tid <= $threads,
        "mod_wsgi.thread_id is between 1 and ThreadsPerChild ($tid)");

# The id Apache logs with %L (t/conf/modwsgi.conf.in's CustomLog).
my $rid = $v{'mod_wsgi.request_id'} // '?';
my $idlog = logs_dir() . '/modwsgi_ids_log';
my $logged = wait_until(sub {
    open my $fh, '<', $idlog or return;
    my ($line) = grep /\?idcheck-$token$/, <$fh>;
    close $fh;
    return $line;
}, 10) // '';
ok t_cmp((split ' ', $logged)[0] // '', $rid,
         "mod_wsgi.request_id is the id Apache logs with %L ($rid)");
# Apache's own generator: base64 of its pid, thread and time.
ok t_ok(scalar($rid =~ m{^[A-Za-z0-9+/\@_=-]{8,}$}),
        "mod_wsgi.request_id looks like an Apache log id ($rid)");

# WSGIEnableSendfile / WSGIIgnoreActivity / WSGIScriptReloading Off.
my $eon = get_json('/modwsgi/env_on');
ok t_cmp(join('|', map { $eon->{keys}{"mod_wsgi.$_"}[1] // '?' }
              qw(enable_sendfile ignore_activity script_reloading)),
         '1|1|0',
         'WSGIEnableSendfile On, WSGIIgnoreActivity On, WSGIScriptReloading Off: mod_wsgi.* says 1, 1, 0');
ok t_cmp($eon->{lite}{'mod_wsgi_lite.script_reloading'} // '?', '0',
         '(mod_wsgi_lite.script_reloading agrees)');
ok t_cmp(join('|', map { $eon->{$_} // '?' } qw(GATEWAY_INTERFACE run_once)),
         'CGI/1.1|False',
         'a SetEnv of a constant key (GATEWAY_INTERFACE, wsgi.run_once) loses to it');
ok t_cmp($eon->{plain} // '?', 'kept', '... while another SetEnv of the same request passes');

# WSGIHandlerScript: handler_script names the script, request_handler the handler.
my $hs = get_json('/modwsgi/hs/data.mwh');
ok t_cmp(($hs->{keys}{'mod_wsgi.handler_script'}[1] // '?') . ' '
         . ($hs->{keys}{'mod_wsgi.request_handler'}[1] // '?'),
         "$docroot/modwsgi/env.wsgi wsl-mw-hs",
         'under WSGIHandlerScript: mod_wsgi.handler_script is its file, request_handler its name');

# thread_requests counts each thread's earlier requests; total_requests the
# process's.  Sequential requests, so each sees all of the earlier ones done.
my (%by_thread, %by_pid, $bad_thread, $bad_total, $n);
for (1 .. 40) {
    my $x = get_json('/modwsgi/env');
    my $kk = $x->{keys} or next;
    $n++;
    my ($pid, $t, $tr, $tot) = ($x->{pid}, $kk->{'mod_wsgi.thread_id'}[1],
                                $kk->{'mod_wsgi.thread_requests'}[1],
                                $kk->{'mod_wsgi.total_requests'}[1]);
    my $prev = $by_thread{"$pid/$t"};
    $bad_thread .= " $pid/$t: $prev then $tr" if defined $prev && $tr <= $prev;
    $by_thread{"$pid/$t"} = $tr;
    my $ptot = $by_pid{$pid};
    $bad_total .= " $pid: $ptot then $tot" if defined $ptot && $tot <= $ptot;
    $by_pid{$pid} = $tot;
}
ok t_cmp($n, 40, '(setup) 40 sequential requests answered');
ok t_cmp($bad_thread // '', '',
         'mod_wsgi.thread_requests increases from one request to the next on each thread');
ok t_cmp($bad_total // '', '',
         'mod_wsgi.total_requests increases from one request to the next in each process');
ok t_ok(keys(%by_thread) >= 1 && !grep({ $_ < 0 } values %by_thread),
        'thread_requests are counts (>= 0)');

# wsgi.file_wrapper, with and without sendfile: the same bytes.
my $file = do { local (@ARGV, $/) = "$docroot/modwsgi/file.wsgi"; <> };
for my $c (['off', '0'], ['on', '1']) {
    my $r = GET("/modwsgi/file_$c->[0]");
    ok t_cmp(($r->code) . ' ' . ($r->header('X-Sendfile-Key') // '?'),
             "200 $c->[1]", "file_wrapper under WSGIEnableSendfile " . ucfirst($c->[0]));
    ok t_ok($r->content eq $file,
            "file_wrapper sends the whole file under WSGIEnableSendfile " . ucfirst($c->[0]));
}

# --- events ----------------------------------------------------------------------
my $evlog = logs_dir() . '/modwsgi_events.jsonl';
sub events {
    open my $fh, '<', $evlog or return ();
    my @e = map { JSON::PP::decode_json($_) } grep /\S/, <$fh>;
    close $fh;
    return @e;
}

my $payload = "payload-$token";
my $ok_t0 = Time::HiRes::time();
my $rok = POST("/modwsgi/events?ok-$token", content => $payload);
my $ok_t1 = Time::HiRes::time();
my $ok_id = $rok->header('X-Request-Id') // '?';
ok t_cmp($rok->code . ' ' . $rok->content, "200 one two $payload",
         'the subscribed application answers');
my $rfail = GET("/modwsgi/events?fail-$token");
ok t_cmp($rfail->code, 500, 'the failing application gives a 500');
my $rwrap = GET("/modwsgi/events?wrap-$token");
ok t_cmp($rwrap->code . ' ' . $rwrap->content, '200 wrapped:one two ',
         'request_started: a callback returning {"application_object": wrapper} has the wrapper called');

# The three request ids: ok from its header, the others from request_data.
my %id = (ok => $ok_id);
my @ev = wait_until(sub {
    my @e = events();
    for my $x (@e) {
        next unless $x->{event} eq 'request_finished';
        my $q = $x->{data}{query} // '';
        $id{$1} = $x->{values}{request_id} if $q =~ /^(fail|wrap)-\Q$token\E$/;
    }
    return unless 3 == grep { my $w = $_; grep { $_->{event} eq 'request_finished'
        && ($_->{values}{request_id} // '') eq ($id{$w} // '-') } @e } qw(ok fail wrap);
    return \@e;
}, 15);
@ev = @{ $ev[0] || [] };
ok t_ok(@ev && 3 == keys %id, '(setup) the events of the three requests were recorded');
my %of;
for my $x (@ev) {
    for my $w (keys %id) {
        push @{ $of{$w} }, $x if ($x->{values}{request_id} // '') eq $id{$w};
    }
}
sub names { join ' ', map { $_->{event} } @{ $_[0] || [] } }
ok t_cmp(names($of{ok}), 'request_started response_started request_finished',
         'a request: request_started, response_started, request_finished, in order');
ok t_cmp(names($of{fail}), 'request_started request_exception request_finished',
         'a failing request: request_started, request_exception, request_finished, in order');
ok t_cmp(names($of{wrap}), 'request_started response_started request_finished',
         'the wrapped request has the same events');
ok t_ok(1 == keys %{ { map { $_->{pid} => 1 } @{ $of{ok} || [] } } },
        'all of a request\'s events come from its process');

my %by = map { $_->{event} => $_ } @{ $of{ok} || [] };
my $st = $by{request_started} || {};
ok t_cmp(JSON::PP->new->canonical->encode($st->{types} || {}),
         JSON::PP->new->canonical->encode({
             request_id => 'str', thread_id => 'int', daemon_connects => 'int',
             daemon_restarts => 'int', request_start => 'float',
             queue_start => 'float', daemon_start => 'float',
             application_object => 'function', request_environ => 'dict',
             application_start => 'float', request_data => 'dict' }),
         'request_started has mod_wsgi\'s fields, with its types');
ok t_ok($st->{environ_request_id} && $st->{environ_request_id} eq $ok_id &&
        $st->{app_is_script},
        'request_started: request_environ is the request\'s environ, application_object the script\'s application');
my $sv = $st->{values} || {};
ok t_cmp(join(' ', map { $sv->{$_} // '?' } qw(daemon_connects daemon_restarts queue_start daemon_start)),
         '0 0 0 0', 'request_started: no daemon, no queue (0, 0, 0.0, 0.0)');
ok t_ok(($sv->{request_start} // 0) <= ($sv->{application_start} // -1) &&
        abs(($sv->{request_start} // 0) - $ok_t0) < 1 + ($ok_t1 - $ok_t0),
        'request_started: request_start (now, in seconds) <= application_start');
my $fin = $by{request_finished} || {};
ok t_cmp($sv->{thread_id} // '?', $fin->{data}{environ_thread_id} // '-',
         'request_started: thread_id is the environ\'s mod_wsgi.thread_id');

my $rsp = $by{response_started} || {};
ok t_cmp(JSON::PP->new->canonical->encode($rsp->{types} || {}),
         JSON::PP->new->canonical->encode({
             request_id => 'str', response_status => 'str',
             response_headers => 'list', exception_info => 'NoneType',
             request_data => 'dict' }),
         'response_started has mod_wsgi\'s fields, with its types');
ok t_ok(($rsp->{values}{response_status} // '') eq '200 OK' &&
        grep({ $_->[0] eq 'X-Request-Id' && $_->[1] eq $ok_id }
             @{ $rsp->{values}{response_headers} || [] }),
        'response_started: the status and headers the application gave');

my %fin_types = (request_id => 'str', input_reads => 'int',
                 input_length => 'int', input_time => 'float',
                 output_length => 'int', output_writes => 'int',
                 output_time => 'float', cpu_user_time => 'float',
                 cpu_system_time => 'float', application_finish => 'float',
                 application_time => 'float', request_data => 'dict');
ok t_cmp(JSON::PP->new->canonical->encode($fin->{types} || {}),
         JSON::PP->new->canonical->encode(\%fin_types),
         'request_finished has mod_wsgi\'s fields, with its types');
my $fv = $fin->{values} || {};
ok t_cmp(join(' ', map { $fv->{$_} // '?' } qw(input_length output_length output_writes)),
         length($payload) . ' ' . length("one two $payload") . ' 3',
         'request_finished: input_length, output_length and output_writes count the body and the 3 chunks');
ok t_ok(($fv->{input_reads} // 0) >= 1 && ($fv->{input_time} // -1) >= 0 &&
        ($fv->{output_time} // -1) >= 0,
        "request_finished: input_reads ($fv->{input_reads}) >= 1, input_time and output_time >= 0");
ok t_ok(($fv->{application_time} // -1) >= 0 &&
        ($fv->{application_time} // 9) <= ($ok_t1 - $ok_t0) + 0.01 &&
        ($fv->{application_finish} // 0) >= ($sv->{application_start} // 1e99),
        'request_finished: application_time within the request, application_finish after application_start');
ok t_ok(($fv->{cpu_user_time} // -1) >= 0 && ($fv->{cpu_system_time} // -1) >= 0 &&
        $fv->{cpu_user_time} + $fv->{cpu_system_time}
            <= ($fv->{application_time} // 0) + 1e-6,
        'request_finished: CPU times >= 0 and within the application time');
ok t_cmp(join(' ', @{ $fin->{data_events} || [] }) . ' / ' . ($fin->{data}{query} // '?'),
         "request_started response_started request_finished / ok-$token",
         'every event gets the same request_data dict as mod_wsgi.request_data()');

my %fby = map { $_->{event} => $_ } @{ $of{fail} || [] };
my $exc = $fby{request_exception} || {};
ok t_cmp(JSON::PP->new->canonical->encode($exc->{types} || {}),
         '{"exception_info":"tuple","request_data":"dict","request_id":"str"}',
         'request_exception has mod_wsgi\'s fields, with its types');
ok t_cmp(join('|', map { $_ // '?' } @{ $exc->{exc} || [] }[0 .. 2]),
         "ValueError|boom fail-$token|traceback",
         'request_exception: exception_info is the (type, value, traceback) the application raised');
ok t_ok(($exc->{exc} || [])->[3],
        'request_exception: exception_info\'s value is an instance of its type');
ok t_cmp(($fby{request_finished}{values}{output_length} // '?'), 0,
         'the failing request sent no body (request_finished output_length 0)');

my %wby = map { $_->{event} => $_ } @{ $of{wrap} || [] };
ok t_cmp($wby{request_finished}{values}{output_writes} // '?', 3,
         'output_writes counts the wrapper\'s chunk and not an empty one (wrapped:, one, two, b"")');

# A callback that raises.
my $rbad;
my @lines = log_during(sub { $rbad = GET('/modwsgi/badcb') },
                       want => qr/wsl-broken-callback in request_finished/);
ok t_cmp($rbad->code . ' ' . $rbad->content, '200 answered; fine=called',
         'a raising callback does not break the request; the next callback still runs');
my $log = join '', @lines;
for my $ev (qw(request_started request_finished)) {
    ok t_ok(scalar($log =~ /WSL00010: the event callback for '$ev' of request \S+ failed for '\/modwsgi\/badcb'/),
            "the failing $ev callback is logged for the request");
    ok t_ok(scalar($log =~ /RuntimeError: wsl-broken-callback in $ev/),
            "... with its traceback ($ev)");
}

# No event_callbacks at all: the failing application's traceback is still
# logged (probing for subscribers must not clear its exception).
my $rno;
@lines = log_during(sub { $rno = GET('/modwsgi/nocallbacks') },
                    want => qr/wsl-marker-nocallbacks/);
ok t_cmp($rno->code, 500, 'without mod_wsgi.event_callbacks, a failing app gets a 500');
ok t_ok(scalar(grep /RuntimeError: wsl-marker-nocallbacks/, @lines),
        '... and its traceback is logged') or diag(join '', @lines);

# --- a server of our own: WSGIServerMetrics On, process_stopping at stop ----------
my $app = "$docroot/modwsgi/stopping.wsgi";
my $envapp = "$docroot/modwsgi/env.wsgi";
# Embedded in daemon mode too: server_metrics() reads Apache's scoreboard,
# which a daemon process of Apache's first configuration (forked before
# Apache makes it) has not; a daemon's server_metrics() is the last
# section's.
my $srv = eval {
    WSLServer->start(embedded => 1, conf => <<"CONF");
WSGIServerMetrics On
WSGIScriptAlias /main "$app" application-group=%{GLOBAL}
WSGIScriptAlias /sub "$app" application-group=wsl-mw-stop
WSGIScriptAlias /env "$envapp" application-group=wsl-mw-stop
CONF
};
ok t_ok($srv, '(setup) the server with WSGIServerMetrics On starts') or diag($@);
my (%served, @sm, $answered);
if ($srv) {
    for (1 .. 4) {
        for my $p ('/main', '/sub') {
            my ($code, $body) = $srv->get($p, 10);
            next unless $code == 200;
            my $x = eval { JSON::PP::decode_json($body) } or next;
            $answered++;
            $served{"$x->{pid} $x->{group}"} = 1;
            push @sm, $x;
        }
    }
}
ok t_cmp($answered // 0, 8, '(setup) all 8 requests answered');
my $s0 = $sm[0] || {};
ok t_cmp($s0->{type} // '?', 'dict', 'server_metrics() is a dict under WSGIServerMetrics On');
ok t_cmp(JSON::PP->new->canonical->encode($s0->{types} || {}),
         JSON::PP->new->canonical->encode({
             server_limit => 'int', thread_limit => 'int',
             running_generation => 'int', restart_time => 'float',
             current_time => 'float', running_time => 'int',
             processes => 'list', daemon_groups => 'list' }),
         'server_metrics() has mod_wsgi\'s fields, with its types, and daemon_groups');
ok t_cmp(JSON::PP->new->canonical->encode($s0->{daemon_groups} // '?'), '[]',
         'server_metrics(): daemon_groups is [] in a server without WSGIDaemonProcess');
ok t_ok(($s0->{nprocesses} // -1) == ($s0->{server_limit} // -2) && ($s0->{mine} // 0) == 1,
        'server_metrics(): one entry per scoreboard slot, this process in one of them');
ok t_cmp(join(' ', @{ $s0->{process_keys} || [] }),
         'generation pid process_num quiescing workers',
         'server_metrics(): a process has mod_wsgi\'s fields');
ok t_cmp(join(' ', @{ $s0->{worker_keys} || [] }),
         'access_count bytes_served client generation last_used request start_time status stop_time thread_num vhost',
         'server_metrics(): a worker has mod_wsgi\'s fields');
ok t_cmp($s0->{nworkers} // -1, $s0->{thread_limit} // -2,
         'server_metrics(): one worker entry per thread slot');
ok t_ok(grep({ $_ eq 'W' } @{ $s0->{my_statuses} || [] }) &&
        !grep({ length($_) != 1 } @{ $s0->{statuses} || [] }),
        "server_metrics(): the worker running this request is 'W' (statuses: @{ $s0->{my_statuses} || [] })");
ok t_ok(abs(($s0->{current_time} // 0) - Time::HiRes::time()) < 30 &&
        ($s0->{restart_time} // 1e99) <= ($s0->{current_time} // 0),
        'server_metrics(): restart_time <= current_time, now');

my ($ecode, $ebody) = $srv ? $srv->get('/env', 10) : (0, '');
my $ek = eval { JSON::PP::decode_json($ebody)->{keys} } || {};
ok t_cmp(($ek->{'mod_wsgi.listener_host'}[1] // '?') . ':' . ($ek->{'mod_wsgi.listener_port'}[1] // '?'),
         '127.0.0.1:' . ($srv ? $srv->port : '?'),
         'mod_wsgi.listener_host/port follow the Listen address (Listen 127.0.0.1:port)');

my $secs = $srv ? $srv->stop(15) : undef;
ok t_ok(defined $secs, '(setup) the server stops');
my $text = $srv ? $srv->log_text : '';
my (%heard, $bad_line);
for my $line (grep /WSL-MW-STOP/, split /\n/, $text) {
    my ($via, $event, $group, $pid, $reason, $fields) =
        $line =~ /via=(\S+) event=(\S+) group=(\S+) pid=(\d+) reason=(\S+) fields=(\S*)/
        or next;
    $bad_line .= " $line" unless $event eq 'process_stopping' && $reason eq "''"
        && $fields eq 'shutdown_reason';
    $heard{"$pid $group"}{$via}++;
}
my @missing = grep { !($heard{$_}{events} && $heard{$_}{shutdown}) } sort keys %served;
ok t_ok(keys %served >= 2 && !@missing,
        'process_stopping reached the event and the shutdown subscriber of every interpreter that served ('
        . join(', ', sort keys %served) . ')' . (@missing ? "; missing: @missing" : ''));
ok t_ok(!grep({ $heard{$_}{events} != 1 || $heard{$_}{shutdown} != 1 } keys %heard),
        'each subscriber heard process_stopping once');
ok t_cmp($bad_line // '', '',
         "process_stopping has shutdown_reason '' and no other field");
ok t_ok(scalar($text !~ /Fatal Python error|Segmentation fault|exit signal|WSL00010|WSL00011/),
        'the child exits cleanly after the callbacks');

# --- server_metrics()'s daemon_groups: a server of two daemon groups -------------
# WSGIServerMetrics On; a third group with server-metrics=Off.  Every
# group is on the status board, so each daemon, and each Apache child,
# sees all of them: pids, states and request counts as mod_status shows.
my $dgapp = "$docroot/modwsgi/daemon_groups.wsgi";
my $dsrv = eval {
    WSLServer->start(embedded => 1, conf => <<"CONF");
WSGISocketPrefix \@TMPDIR\@/wsgi
WSGIServerMetrics On
WSGIDaemonProcess wsl-sm-a processes=2 threads=2
WSGIDaemonProcess wsl-sm-b processes=1 threads=2
WSGIDaemonProcess wsl-sm-off processes=1 threads=1 server-metrics=Off
WSGIScriptAlias /a "$dgapp" process-group=wsl-sm-a application-group=%{GLOBAL}
WSGIScriptAlias /b "$dgapp" process-group=wsl-sm-b application-group=%{GLOBAL}
WSGIScriptAlias /off "$dgapp" process-group=wsl-sm-off application-group=%{GLOBAL}
WSGIScriptAlias /emb "$dgapp" application-group=%{GLOBAL}
CONF
};
ok t_ok($dsrv, '(setup) the server with two daemon groups and WSGIServerMetrics On starts') or diag($@);

sub dg_get {
    my ($path) = @_;
    my ($code, $body) = $dsrv ? $dsrv->get($path, 10) : (0, '');
    return ($code == 200 ? eval { JSON::PP::decode_json($body) } : undef) // {};
}
sub dg_group {
    my ($report, $name) = @_;
    my ($g) = grep { ($_->{name} // '') eq $name } @{ $report->{daemon_groups} || [] };
    return $g // {};
}
sub dg_pids { join ' ', sort { $a <=> $b } map { $_->{pid} } @{ $_[0]{processes} || [] } }
sub ppid_of {
    open my $fh, '<', "/proc/$_[0]/stat" or return -1;
    my $stat = <$fh>;
    close $fh;
    return $stat =~ /\)\s+\S+\s+(\d+)/ ? $1 : -1;
}

# Every process of the three groups started and serving.
my $ra = {};
wait_until(sub {
    $ra = dg_get('/a');
    my @all = map { @{ dg_group($ra, $_)->{processes} || [] } } qw(wsl-sm-a wsl-sm-b wsl-sm-off);
    return @all == 4 && !grep { ($_->{state} // '') ne 'serving' } @all;
}, 30);
my $rb = dg_get('/b');
my $roff = dg_get('/off');
my $remb = dg_get('/emb');
my ($ga, $gb, $goff) = map { dg_group($ra, $_) } qw(wsl-sm-a wsl-sm-b wsl-sm-off);

ok t_cmp(($ra->{type} // '?') . ' ' . join(',', @{ $ra->{keys} || [] }),
         'dict current_time,daemon_groups',
         "in a daemon, server_metrics() is a dict of current_time and daemon_groups (no Apache scoreboard in a daemon of Apache's first configuration)");
ok t_cmp(join(' ', map { $_->{name} } @{ $ra->{daemon_groups} || [] }),
         'wsl-sm-a wsl-sm-b wsl-sm-off',
         'daemon_groups: every WSGIDaemonProcess of the server, in definition order, the caller\'s and the others');
ok t_cmp(join(' | ', map { join ',', sort keys %$_ } @{ $ra->{daemon_groups} || [] }),
         join(' | ', ('backlog,name,processes') x 3),
         'each entry has the shape of process_metrics()[\'daemon_group\']: name, backlog, processes');
ok t_cmp(join(' ', map { $_->{process} } @{ $ga->{processes} || [] }) . ' / '
         . join(' ', map { $_->{process} } @{ $gb->{processes} || [] }),
         '1 2 / 1', 'processes=2 has processes 1 and 2, processes=1 has process 1');
my @listed = map { @{ $_->{processes} || [] } } $ga, $gb, $goff;
ok t_cmp(join(' ', map { "$_->{state}/" . ($_->{retiring} ? 'retiring' : 'current') } @listed),
         join(' ', ('serving/current') x 4), "every process is 'serving', none retiring");
my %pids = map { $_->{pid} => 1 } @listed;
ok t_ok(keys(%pids) == 4 && !grep({ ppid_of($_) != $dsrv->pid } keys %pids),
        'four distinct pids, each a live child of the Apache parent ('
        . join(' ', sort keys %pids) . ')');
ok t_ok(grep({ $_ == ($ra->{pid} // -1) } map { $_->{pid} } @{ $ga->{processes} || [] })
        && grep({ $_ == ($rb->{pid} // -1) } map { $_->{pid} } @{ $gb->{processes} || [] })
        && grep({ $_ == ($roff->{pid} // -1) } map { $_->{pid} } @{ $goff->{processes} || [] }),
        "the pid that answered /a is in wsl-sm-a's entry, /b's in wsl-sm-b's, /off's in wsl-sm-off's (as seen from /a)")
    or diag("a $ra->{pid} b $rb->{pid} off $roff->{pid}: " . JSON::PP->new->canonical->encode($ra->{daemon_groups}));
my ($me) = grep { $_->{pid} == ($ra->{pid} // -1) } @{ $ga->{processes} || [] };
ok t_ok($me && $me->{active_requests} >= 1 && $me->{request_count} >= 0
        && $me->{start_time} > 0 && $me->{start_time} <= Time::HiRes::time(),
        'the caller\'s own process: its request is active, start_time in the past');
ok t_cmp(join(' ', map { "$_->{name}=" . dg_pids($_) } dg_group($ra, 'wsl-sm-a')),
         join(' ', map { "$_->{name}=" . dg_pids($_) } $ra->{daemon_group} || {}),
         'the caller\'s group in daemon_groups is process_metrics()[\'daemon_group\']');
ok t_cmp(join(' ', map { $_->{name} } @{ $rb->{daemon_groups} || [] }) . ' / '
         . dg_pids(dg_group($rb, 'wsl-sm-a')),
         'wsl-sm-a wsl-sm-b wsl-sm-off / ' . dg_pids($ga),
         'a daemon of wsl-sm-b sees the same groups, and wsl-sm-a\'s pids');

# Request counts rise: five requests to /b, read from /a.
my $before = (dg_group(dg_get('/a'), 'wsl-sm-b')->{processes} || [{}])->[0]{request_count} // -1;
my $b_ok = grep { (dg_get('/b')->{pid} // 0) } 1 .. 5;
my $after = -1;
wait_until(sub {
    $after = (dg_group(dg_get('/a'), 'wsl-sm-b')->{processes} || [{}])->[0]{request_count} // -1;
    return $after >= $before + 5;
}, 10);
ok t_cmp("$b_ok " . ($after - $before), '5 5',
         "five requests to wsl-sm-b raise its request_count by five, as a daemon of wsl-sm-a reads it ($before -> $after)");

ok t_cmp($roff->{type} // '?', 'NoneType',
         'server-metrics=Off: server_metrics() is None in that group\'s daemon (WSGIServerMetrics On or not)');
ok t_ok(ref $roff->{daemon_group} eq 'HASH' && dg_pids($roff->{daemon_group}) eq dg_pids($goff),
        '... while process_metrics()[\'daemon_group\'] there has it, and the others list it');

# An Apache child: the scoreboard, and the same daemon_groups.
ok t_cmp(($remb->{type} // '?') . ' ' . join(',', @{ $remb->{keys} || [] }),
         'dict current_time,daemon_groups,processes,restart_time,running_generation,running_time,server_limit,thread_limit',
         'in an Apache child, server_metrics() is the scoreboard and daemon_groups');
ok t_ok(($remb->{group} // '?') eq '' && grep({ $_ == ($remb->{pid} // -1) } @{ $remb->{scoreboard_pids} || [] }),
        '(embedded) the answering Apache child is on the scoreboard');
ok t_cmp(join(' ', map { "$_->{name}=" . dg_pids($_) } @{ $remb->{daemon_groups} || [] }),
         join(' ', map { "$_->{name}=" . dg_pids($_) } @{ $ra->{daemon_groups} || [] }),
         'the Apache child reads the same groups and pids from the board (mapped read-only there)');

# A graceful restart: the next configuration's daemons are forked once
# Apache's scoreboard exists, and read it too.
my $old_a = dg_pids($ga);
$dsrv->signal('USR1') if $dsrv;
my $rn = {};
wait_until(sub {
    $rn = dg_get('/a');
    my $g = dg_group($rn, 'wsl-sm-a');
    return @{ $g->{processes} || [] } == 2 && dg_pids($g) ne $old_a
        && !grep { $_->{state} ne 'serving' } @{ $g->{processes} };
}, 30);
ok t_cmp(($rn->{type} // '?') . ' ' . join(',', @{ $rn->{keys} || [] }),
         'dict current_time,daemon_groups,processes,restart_time,running_generation,running_time,server_limit,thread_limit',
         'after a graceful restart, a daemon\'s server_metrics() has Apache\'s scoreboard and daemon_groups')
    or diag(JSON::PP->new->canonical->encode($rn));
ok t_ok(dg_pids(dg_group($rn, 'wsl-sm-a')) ne $old_a
        && grep({ $_ == ($rn->{pid} // -1) } map { $_->{pid} } @{ dg_group($rn, 'wsl-sm-a')->{processes} || [] }),
        'its daemon_groups are the new configuration\'s processes');
ok t_ok(defined($dsrv ? $dsrv->stop(15) : undef), '(setup) the server stops');
