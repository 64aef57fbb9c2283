# compat.t: what an application sees of its host, compared live, key by key,
# with Debian's mod_wsgi 4.9.4 (the reference).  Two Apaches of the test's
# own run side by side, same MPM (the one under test), same configuration
# text, same application (t/htdocs/compat/report.wsgi): one loads
# /usr/lib/apache2/modules/mod_wsgi.so, the other the module under test.
# Each request of @REQUESTS goes to both, and their reports must agree:
# - the environ: the same keys (mod_wsgi_lite.* are ours alone), the same
#   type for each, and the same value, or, for the values that differ from
#   one server to the other (%PER_SERVER), the same shape;
# - the `mod_wsgi` and `apache` modules: the same attributes, each of the
#   same type, callable or not, with the same value (or shape);
# - "mod_wsgi" in sys.modules, and sys.stdout / stderr / stdin as a
#   library probes them (type, encoding, errors, line_buffering, buffer,
#   isatty(), fileno(), readable(), writable()).
# %ONLY_MOD_WSGI, %ONLY_OURS, %ATTR_ONLY_MOD_WSGI, %ATTR_ONLY_OURS,
# %OURS_INSTEAD, %PER_SERVER and @NORMALISE are the complete list of the differences
# allowed, each with its reason: the source of the README's "Differences
# from mod_wsgi".  A failing check prints every key that differs and how,
# and the end of the file the whole list for this MPM, once per key.
# Bounded: two small servers, 6 requests each, every read within 15 s.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use Time::HiRes ();
use WSLTest qw(t_ok diag expected_mpm need_debian_python);
use WSLServer ();

my $JSON = JSON::PP->new->canonical->allow_nonref;

# --- the requests ---------------------------------------------------------------
# interp => 1: also compare the modules and the streams, once per
# application group (they belong to the interpreter, not the request).
# %{GLOBAL} goes first: under the event MPM, mod_wsgi 4.9.4 (Python 3.11)
# runs a %{GLOBAL} request in a sub-interpreter when the thread serving
# it has served that sub-interpreter before (its `mod_wsgi` module is the
# sub-interpreter's, application_group and all), so only a thread's first
# request is a reference for %{GLOBAL}.
my @REQUESTS = (
    { id => 'global', name => 'GET in %{GLOBAL}',
      method => 'GET', path => '/compat_global/g?x=2', interp => 1 },
    { id => 'get', name => 'GET with a query and a path_info (a sub-interpreter group)',
      method => 'GET', path => '/compat_sub/a/b%20c?x=1&y=%20', interp => 1 },
    { id => 'post', name => 'POST with a body',
      method => 'POST', path => '/compat_sub/form?p=1',
      headers => ['Content-Type' => 'application/x-www-form-urlencoded'],
      body => 'a=1&b=%C3%A9&c=' . ('x' x 1000) },
    { id => 'head', name => 'HEAD', method => 'HEAD', path => '/compat_sub/head?h=1' },
    { id => 'resource', name => 'GET in the default group (%{RESOURCE})',
      method => 'GET', path => '/compat_resource', interp => 1 },
    { id => 'header', name => 'GET with a custom header (and Authorization)',
      method => 'GET', path => '/compat_sub/hdr',
      headers => ['X-Custom-Header' => 'custom value',
                  'Accept-Language' => 'fr, en;q=0.5',
                  'Authorization' => 'Basic dXNlcjpwYXNz'] },
);

# --- the differences allowed ----------------------------------------------------
# Environ keys mod_wsgi has and mod_wsgi_lite legitimately has not: key =>
# reason.
my %ONLY_MOD_WSGI = (
    PATH_TRANSLATED => 'a sub-request per request to map PATH_INFO to a '
        . 'file, a CGI-era variable that WSGI applications do not read',
);

# Environ keys only mod_wsgi_lite has, besides its own mod_wsgi_lite.*
# (ours alone by name): key => reason.  None.
my %ONLY_OURS = ();

# Module attributes one side legitimately lacks: "module.attr" => reason.
my %ATTR_ONLY_MOD_WSGI = ();
my %ATTR_ONLY_OURS = (
    'mod_wsgi.lite_version' => "mod_wsgi_lite's own version; "
        . 'mod_wsgi.version is the mod_wsgi API level it provides',
);

# Entries where ours legitimately differs: key => [what ours must be, as
# show() prints it (a regexp), reason].  The reference is still probed.
my %OURS_INSTEAD = (
    'wsgi.errors' => [qr/^Log "<mod_wsgi_lite\.Log object/,
        'request-scoped, so a write from a thread after its request ended '
        . 'raises RuntimeError instead of reaching a freed request; PEP 3333 '
        . 'asks for write, writelines and flush only'],
    (map { ("sys.$_.fileno" => [qr/^raises UnsupportedOperation$/,
        "io.UnsupportedOperation (an OSError, as mod_wsgi's), what Python's "
        . 'own io objects without a descriptor raise']) } qw(stdout stderr stdin)),
    # WSGIRestrictStdin is On by default here (mod_wsgi's documented
    # default; its code leaves Python's own stdin unless it is set On):
    # reads raise OSError naming the directive instead of reading fd 0,
    # which in a foreground Apache is the terminal.
    'sys.stdin.errors' => [qr/^str "replace"$/,
        'the restricted stdin is made as stdout and stderr are (WSGIRestrictStdin On)'],
    'sys.stdin.line_buffering' => [qr/^bool true$/,
        'the restricted stdin is made as stdout and stderr are (WSGIRestrictStdin On)'],
);

# Values that are not equal across the two servers, but must have the same
# shape on both: key (environ key, or "module.attr") => [check, reason].
# A check returns '' or what is wrong with the value.
my %PER_SERVER = (
    REMOTE_PORT => [\&tcp_port,
        "the client's ephemeral port: a connection of its own to each server"],
    'mod_wsgi.request_start' => [\&usec_now,
        'when Apache read the request: a clock reading, in microseconds'],
    'mod_wsgi.script_start' => [\&usec_now,
        'when the application was called: a clock reading, in microseconds'],
    # t/run.sh's daemon mode, where both servers run a daemon group:
    'mod_wsgi.queue_start' => [\&usec_now,
        'when the Apache child handed the request on: a clock reading, in microseconds'],
    'mod_wsgi.daemon_start' => [\&usec_now,
        'when the daemon process took the request: a clock reading, in microseconds'],
    'mod_wsgi.request_id' => [\&log_id,
        "Apache's own id of the request (r->log_id), unique per request"],
    'mod_wsgi.connection_id' => [\&log_id,
        "Apache's own id of the connection (c->log_id), when it has one"],
    'mod_wsgi.thread_id' => [\&count,
        'which worker thread of the process served it'],
    'mod_wsgi.thread_requests' => [\&count,
        'how many requests that thread had served before'],
    'mod_wsgi.total_requests' => [\&count,
        'how many requests the process had served before'],
    # Both the environ key and the module attribute of that name:
    'mod_wsgi.version' => [\&version3,
        "the module's own version: (4, 9, 4) for the reference"],
    'apache.version' => [\&version3,
        'mod_wsgi reports the Apache it was built against (2.4.55 for '
        . "Debian's package), not the one it runs in"],
    # The highest scoreboard slot in use when the interpreter was made
    # (AP_MPMQ_MAX_DAEMON_USED): how many children had started by then.
    'mod_wsgi.maximum_processes' => [\&process_count,
        'how many children the MPM had started when the interpreter was made'],
    'apache.maximum_processes' => [\&process_count,
        'the same as mod_wsgi.maximum_processes'],
);

# Before values are compared, what is each server's own is replaced by a
# placeholder, so that what is left must be equal.  Each [substitution,
# reason]; the substitution edits $_, with $c the server's context.
my @NORMALISE = (
    [sub { my $c = shift; s/(?<!\d)$c->{port}(?!\d)/<PORT>/g },
     'each server listens on its own port: HTTP_HOST, SERVER_PORT, '
     . 'mod_wsgi.listener_port, the %{RESOURCE} group name'],
    [sub { my $c = shift; s/\Q$c->{dir}\E/<DIR>/g },
     'each server has its own directory: WSL_COMPAT_DIR (SetEnv)'],
    [sub { my $c = shift; s/\Q$c->{request_id}\E/<REQUEST_ID>/g if $c->{request_id} },
     "the request's own id, in mod_wsgi.active_requests"],
    [sub { s{\bmod_wsgi(?:_lite)?/\d+\.\d+\.\d+\b}{<MODULE>/<VERSION>}g },
     "Apache's banner names the module loaded and its version: SERVER_SOFTWARE, "
     . 'apache.description say mod_wsgi/4.9.4, or mod_wsgi_lite/VERSION'],
    [sub { s/ at 0x[0-9a-f]+//g }, "an object's address, in its repr"],
    [sub { s/(?<=[<'])mod_wsgi_lite\./mod_wsgi./g },
     "a repr names the type's module: mod_wsgi_lite.Input for mod_wsgi.Input "
     . "(our types belong to our extension module; their names are mod_wsgi's)"],
);

sub normalise {
    my ($v, $ctx) = @_;
    return $v unless defined $v && !ref $v;
    local $_ = $v;
    for my $n (@NORMALISE) {
        $n->[0]->($ctx);
    }
    return $_;
}

# --- the shape checks --------------------------------------------------------------
sub is_str { defined $_[0] && !ref $_[0] }

sub tcp_port {
    my ($e) = @_;
    return '' if $e->{type} eq 'str' && $e->{value} =~ /^[1-9]\d{0,4}$/
        && $e->{value} < 65536;
    return 'not a TCP port number as a str';
}

# Decimal microseconds since the epoch, as a str, while the request ran
# (give or take a few seconds of slack).
sub usec_now {
    my ($e, $ctx) = @_;
    return 'not a str of decimal digits'
        unless $e->{type} eq 'str' && $e->{value} =~ /^\d{16}$/;
    my $t = $e->{value} / 1e6;
    return sprintf('%.3f s off the request (%.3f .. %.3f)',
                   $t < $ctx->{t0} ? $t - $ctx->{t0} : $t - $ctx->{t1},
                   $ctx->{t0}, $ctx->{t1})
        if $t < $ctx->{t0} - 3 || $t > $ctx->{t1} + 3;
    return '';
}

# An Apache log id: a short base64-like token.
sub log_id {
    my ($e) = @_;
    return '' if $e->{type} eq 'str' && $e->{value} =~ m{^[A-Za-z0-9+/@_-]{8,24}$};
    return 'not a log id (8 to 24 base64 characters)';
}

sub count {
    my ($e) = @_;
    return '' if $e->{type} eq 'int' && $e->{value} =~ /^\d+$/;
    return 'not an int >= 0';
}

# WSLServer's MPM settings: ServerLimit 2 (event, worker), MaxRequestWorkers
# 3 (prefork).
sub process_count {
    my ($e) = @_;
    my $limit = expected_mpm() eq 'prefork' ? 3 : 2;
    return '' if $e->{type} eq 'int' && $e->{value} =~ /^\d+$/
        && $e->{value} >= 1 && $e->{value} <= $limit;
    return "not an int from 1 to $limit";
}

sub version3 {
    my ($e) = @_;
    my $v = $e->{value};
    return '' if $e->{type} eq 'tuple' && ref $v eq 'ARRAY' && @$v == 3
        && !grep { !defined || ref || !/^\d+$/ } @$v;
    return 'not a 3-tuple of ints';
}

# --- the servers --------------------------------------------------------------------
my $MPM = expected_mpm();

plan tests => 2 + 6 * @REQUESTS + 9 * grep({ $_->{interp} } @REQUESTS) + 2,
    need need_module('mod_wsgi_lite.c'),
    { "Debian's mod_wsgi (libapache2-mod-wsgi-py3; scripts/deps.sh installs it)"
          => WSLServer::mod_wsgi_so() },
    need_debian_python('compat.t',
                       "Debian's mod_wsgi, the reference, embeds it");

my $docroot = Apache::Test::vars('documentroot');
my $app = "$docroot/compat/report.wsgi";
# WSGIDestroyInterpreter Off: under the event MPM, mod_wsgi 4.9.4's
# children hang ending a sub-interpreter at exit (mod_wsgi issues 730 and
# 799: thread states left attached to Apache's threads) until Apache's
# SIGKILL 10 s later.  It changes nothing an application sees.
my $conf = <<"CONF";
WSGIDestroyInterpreter Off
SetEnv WSL_COMPAT_DIR "\@TMPDIR\@"
WSGIScriptAlias /compat_sub "$app"
WSGIScriptAlias /compat_global "$app"
WSGIScriptAlias /compat_resource "$app"
<Location /compat_sub>
    WSGIApplicationGroup wsl-compat-sub
</Location>
<Location /compat_global>
    WSGIApplicationGroup %{GLOBAL}
</Location>
CONF

my @SIDES = ('mod_wsgi', 'mod_wsgi_lite');
my %srv;
for my $side (@SIDES) {
    $srv{$side} = eval { WSLServer->start(conf => $conf, module => $side) };
    diag("$side server: $@") unless $srv{$side};
}
ok t_ok($srv{mod_wsgi}, "(setup) a server with Debian's mod_wsgi starts ($MPM MPM)");
ok t_ok($srv{mod_wsgi_lite}, "(setup) a server with mod_wsgi_lite starts ($MPM MPM)");

# One request to one server: its report (or undef) and the context that
# normalise() and the checks need.
sub ask {
    my ($side, $req) = @_;
    my $srv = $srv{$side} or return;
    my $head_file = $srv->dir . '/head-' . $srv->port . '.json';
    unlink $head_file;
    my $t0 = Time::HiRes::time();
    my ($code, $body) = $srv->request($req->{method}, $req->{path},
        headers => $req->{headers}, body => $req->{body}, timeout => 15);
    my $t1 = Time::HiRes::time();
    if ($req->{method} eq 'HEAD' && $code == 200) {
        $body = '';
        if (open my $fh, '<', $head_file) {
            local $/;
            $body = <$fh>;
            close $fh;
        }
    }
    my $report = $code == 200 ? eval { $JSON->decode($body) } : undef;
    diag("$side, $req->{name}: status $code, "
         . ($report ? '' : 'no report: ') . substr($body // '', 0, 300))
        unless $report;
    my $ctx = { t0 => $t0, t1 => $t1, port => $srv->port, dir => $srv->dir };
    if ($report) {
        my $id = $report->{environ}{'mod_wsgi.request_id'};
        $ctx->{request_id} = $id->{value} if $id && is_str($id->{value});
    }
    return ($report, $ctx);
}

# --- the comparison --------------------------------------------------------------
# Every difference found, for the summary: "check | key" => [first
# description, requests it was seen in].
my (%found, @found_order);

sub show {
    my ($e) = @_;
    return '(missing)' unless $e;
    return "raises $e->{raises}" if exists $e->{raises};
    return "error $e->{error}" if exists $e->{error};
    my $s = $e->{type} // '?';
    $s .= ' callable' if $e->{callable};
    $s .= ' ' . $JSON->encode($e->{value})
        if exists $e->{value} && !$e->{callable};
    return $s;
}

# Compare the reference's map of entries (key => {type, value[, callable]}
# or {raises}) with ours, in one of three passes: keys => 1 (the keys one
# side lacks), types => 1 (type, callable, exception raised), values => 1
# (the value after normalise(), or the shape for %PER_SERVER).  Returns
# the differences, one "KEY: how" line each.
sub compare_entries {
    my (%a) = @_;
    my ($ref, $our, $cref, $cour) = @a{qw(ref our cref cour)};
    my ($prefix, $only_ref, $only_our, $skip_our) =
        @a{qw(prefix only_ref only_our skip_our)};
    my @diff;
    my %keys = map { $_ => 1 } keys %$ref, keys %$our;
    for my $k (sort keys %keys) {
        next if $skip_our && $k =~ $skip_our && !$ref->{$k};
        my $name = "$prefix$k";
        my ($r, $o) = ($ref->{$k}, $our->{$k});
        if (!$r || !$o) {
            # The reference's value has its shape, even where ours is
            # missing (that the harness is right does not wait for us).
            if ($r && $a{values} && (my $rule = $PER_SERVER{$name})) {
                my $err = $rule->[0]->($r, $cref);
                push @diff, "$name: shape: mod_wsgi " . show($r) . " ($err)"
                    if $err;
            }
            next if !$o && $only_ref->{$name};
            next if !$r && $only_our->{$name};
            push @diff, "$name: mod_wsgi " . show($r) . " | ours " . show($o)
                if $a{keys};
            next;
        }
        next if $a{keys} || !$a{types} && !$a{values};
        my $instead = $OURS_INSTEAD{$name};
        next if $instead && show($o) =~ $instead->[0]
            && ($a{types} || $a{values});
        if (($r->{type} // '') ne ($o->{type} // '')
            || !!$r->{callable} ne !!$o->{callable}
            || exists($r->{raises}) ne exists($o->{raises})
            || ($r->{raises} // '') ne ($o->{raises} // '')) {
            push @diff, "$name: type: mod_wsgi " . show($r) . " | ours " . show($o)
                if $a{types};
            next;
        }
        next if $a{types} || $r->{callable};
        if (my $rule = $PER_SERVER{$name}) {
            my @bad;
            for ([mod_wsgi => $r, $cref], [ours => $o, $cour]) {
                my $err = $rule->[0]->($_->[1], $_->[2]);
                push @bad, "$_->[0] " . show($_->[1]) . " ($err)" if $err;
            }
            push @diff, "$name: shape: " . join(' | ', @bad) if @bad;
            next;
        }
        my $rv = $JSON->encode(deep_normalise($r->{value}, $cref));
        my $ov = $JSON->encode(deep_normalise($o->{value}, $cour));
        push @diff, "$name: value: mod_wsgi " . show($r) . " | ours " . show($o)
            if $rv ne $ov;
    }
    return @diff;
}

sub deep_normalise {
    my ($v, $ctx) = @_;
    return [map { deep_normalise($_, $ctx) } @$v] if ref $v eq 'ARRAY';
    return normalise($v, $ctx);
}

# One check: ok when @diff is empty; otherwise say every difference.
sub check {
    my ($name, $req, @diff) = @_;
    for my $d (@diff) {
        my ($key) = $d =~ /^(.*?): /;
        my $k = "$name | " . ($key // $d);
        push @found_order, $k unless $found{$k};
        $found{$k} ||= [$d];
        push @{ $found{$k} }, $req->{id};
    }
    diag("$name, $req->{name}: " . scalar(@diff) . " difference(s) with "
         . "mod_wsgi:\n" . join('', map { "    $_\n" } @diff)) if @diff;
    ok t_cmp(scalar(@diff), 0, "$name: as mod_wsgi's, $req->{name}");
}

# Keys of a flat map of stream probes as entries.
sub stream_entries {
    my ($s) = @_;
    return {} unless $s;
    my %e;
    for my $k (keys %$s) {
        my $v = $s->{$k};
        $e{$k} = ref $v eq 'HASH' ? $v
               : { type => JSON::PP::is_bool($v) ? 'bool' : 'str', value => $v };
    }
    return \%e;
}

my %seen;   # request id => [reference's report, its context]
for my $req (@REQUESTS) {
    my ($ref, $cref) = ask(mod_wsgi => $req);
    my ($our, $cour) = ask(mod_wsgi_lite => $req);
    $seen{ $req->{id} } = [$ref, $cref];
    ok t_ok($ref && $our, "(setup) both servers answer with a report: $req->{name}");
    $ref ||= {};
    $our ||= {};
    $cref ||= {};
    $cour ||= {};

    # The script_start of a request is not before its request_start.
    my @order;
    for ([mod_wsgi => $ref], [ours => $our]) {
        my ($side, $rep) = @$_;
        my ($rs, $ss) = map { $rep->{environ}{"mod_wsgi.$_"} } qw(request_start script_start);
        push @order, "$side: script_start $ss->{value} < request_start $rs->{value}"
            if $rs && $ss && $rs->{value} =~ /^\d+$/ && $ss->{value} =~ /^\d+$/
               && $ss->{value} < $rs->{value};
    }

    my %env = (ref => $ref->{environ} || {}, our => $our->{environ} || {},
               cref => $cref, cour => $cour, prefix => '',
               only_ref => \%ONLY_MOD_WSGI, only_our => \%ONLY_OURS,
               skip_our => qr/^mod_wsgi_lite\./);
    check('environ keys', $req, compare_entries(%env, keys => 1));
    check('environ types', $req, compare_entries(%env, types => 1));
    check('environ values', $req, compare_entries(%env, values => 1), @order);

    my @body;
    push @body, "body length read from wsgi.input: mod_wsgi "
        . ($ref->{body_length} // 'none') . " | ours " . ($our->{body_length} // 'none')
        if ($ref->{body_length} // -1) != ($our->{body_length} // -1);
    push @body, "mod_wsgi read " . ($ref->{body_length} // 'none') . " of "
        . length($req->{body}) . " body bytes"
        if defined $req->{body} && ($ref->{body_length} // -1) != length $req->{body};
    check('wsgi.input', $req, @body);

    my @sysmod;
    push @sysmod, '"mod_wsgi" in sys.modules: mod_wsgi '
        . $JSON->encode($ref->{mod_wsgi_in_sys_modules}) . ' | ours '
        . $JSON->encode($our->{mod_wsgi_in_sys_modules})
        if $JSON->encode($ref->{mod_wsgi_in_sys_modules})
           ne $JSON->encode($our->{mod_wsgi_in_sys_modules});
    check('"mod_wsgi" in sys.modules', $req, @sysmod);

    next unless $req->{interp};

    for my $mod (qw(mod_wsgi apache)) {
        my ($rm, $om) = map { $_->{modules}{$mod} || {} } $ref, $our;
        my @imp;
        for ([mod_wsgi => $rm], [ours => $om]) {
            push @imp, "import $mod: $_->[0] raises $_->[1]{import_error}"
                if $_->[1]{import_error};
        }
        my %attrs = (ref => $rm->{attributes} || {}, our => $om->{attributes} || {},
                     cref => $cref, cour => $cour, prefix => "$mod.",
                     only_ref => \%ATTR_ONLY_MOD_WSGI, only_our => \%ATTR_ONLY_OURS);
        check("module $mod: attributes", $req, @imp,
              compare_entries(%attrs, keys => 1));
        check("module $mod: attribute types", $req,
              compare_entries(%attrs, types => 1));
        check("module $mod: attribute values", $req,
              compare_entries(%attrs, values => 1));
    }
    for my $stream (qw(stdout stderr stdin)) {
        my %probes = (ref => stream_entries($ref->{streams}{$stream}),
                      our => stream_entries($our->{streams}{$stream}),
                      cref => $cref, cour => $cour, prefix => "sys.$stream.",
                      only_ref => {}, only_our => {});
        check("sys.$stream", $req, map { compare_entries(%probes, $_ => 1) }
                                       qw(keys types values));
    }
}

# The comparison can fail: mod_wsgi's own GET and POST, compared as if one
# were ours, differ in what they must.
{
    my ($get, $cget) = @{ $seen{get} || [] };
    my ($post, $cpost) = @{ $seen{post} || [] };
    my %env = (ref => $get && $get->{environ} || {},
               our => $post && $post->{environ} || {},
               cref => $cget || {}, cour => $cpost || {}, prefix => '',
               only_ref => {}, only_our => {});
    my @keys = compare_entries(%env, keys => 1);
    my @values = compare_entries(%env, values => 1);
    my @want = (grep(/^CONTENT_LENGTH: mod_wsgi \(missing\) \| ours str "\d+"$/, @keys),
                grep(/^REQUEST_METHOD: value: mod_wsgi str "GET" \| ours str "POST"$/, @values),
                grep(/^PATH_INFO: value: /, @values));
    ok t_cmp(scalar(@want), 3, '(harness) the comparison finds CONTENT_LENGTH, '
             . "REQUEST_METHOD and PATH_INFO apart between mod_wsgi's GET and POST")
        or diag(join "\n", 'keys:', @keys, 'values:', @values);
}

# --- the summary ------------------------------------------------------------------
if (@found_order) {
    diag("=== mod_wsgi_lite vs mod_wsgi 4.9.4, $MPM MPM: "
         . scalar(@found_order) . " difference(s) ===");
    for my $k (@found_order) {
        my ($d, @in) = @{ $found{$k} };
        my ($check) = split / \| /, $k;
        diag("  [$check] $d   (requests: " . join(' ', @in) . ")");
    }
}

# Both stop at once, each within 15 s (Apache's own SIGKILL of a child
# that hangs comes after 10 s; Apache then reaps it, where a SIGKILL from
# here would leave zombies); ours must take much less.
$_->signal('TERM') for values %srv;
my $ours = $srv{mod_wsgi_lite} ? $srv{mod_wsgi_lite}->stop(15) : undef;
my $theirs = $srv{mod_wsgi} ? $srv{mod_wsgi}->stop(15) : undef;
t_debug(sprintf 'stopped: mod_wsgi_lite in %s, mod_wsgi %s',
        defined $ours ? sprintf('%.2f s', $ours) : 'not in 15 s',
        defined $theirs ? sprintf('%.2f s later', $theirs) : 'not in 15 s more');
ok t_ok(defined $ours && $ours < 5,
        sprintf('the mod_wsgi_lite server stops within 5 s (%s)',
                defined $ours ? sprintf('%.2f s', $ours) : 'not in 15 s'));
