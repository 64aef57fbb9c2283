# reload.t: WSGIScriptReloading.  On (the default): a script whose file
# changed (newer mtime) is executed again on its next request, in every
# process.  Off in a <Location>, a <Directory> or .htaccess: the module a
# process has loaded stays, whatever happens to the file.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestRequest;
use Apache::TestUtil;
use WSLTest qw(t_ok daemon_mode);

plan tests => 14, need_module 'mod_wsgi_lite.c';

my $docroot = Apache::Test::vars('documentroot');    # the temporary copy

# Rewrite a script: a module-level counter shows whether the module was
# executed again or is the one loaded before.
sub write_script {
    my ($file, $version, $mtime) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh <<"PY";
import os
import time

LOADED_AT = time.time()


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'version $version pid=%d' % os.getpid()]
PY
    close $fh;
    utime $mtime, $mtime, $file or die "utime $file: $!";
}

# Many requests on fresh connections: version => { pid => 1 }.
sub versions {
    my ($url, $n) = @_;
    my %v;
    for (1 .. $n || 30) {
        my $body = GET_BODY($url);
        if ($body =~ /^version (\d+) pid=(\d+)$/) {
            $v{$1}{$2} = 1;
        }
        else {
            $v{"bad:$body"}{0} = 1;
        }
    }
    return \%v;
}

my $now = time;

# --- On (default) -----------------------------------------------------------------
{
    my $file = "$docroot/reload/on.wsgi";
    write_script($file, 1, $now - 100);
    my $v1 = versions('/reload/on');
    ok t_cmp(join(',', sort keys %$v1), '1', '(setup) version 1 is served everywhere');
    write_script($file, 2, $now - 50);
    my $v2 = versions('/reload/on');
    ok t_cmp(join(',', sort keys %$v2), '2',
             'default (On): the rewritten script (newer mtime) is executed again');
    my $both = grep { $v2->{2}{$_} } keys %{ $v1->{1} };
    if (daemon_mode()) {
        # mod_wsgi's daemon mode: a changed script restarts the process.
        ok t_ok(!$both, 'daemon mode: version 2 comes from a new process');
    }
    else {
        ok t_ok($both, '(setup) the same processes served version 1 and then version 2');
    }
    # Same size, only a few seconds newer: still reloaded.
    write_script($file, 3, $now - 47);
    my $v3 = versions('/reload/on');
    ok t_cmp(join(',', sort keys %$v3), '3',
             'On: a same-size rewrite a few seconds newer is reloaded too');
}

# --- Off --------------------------------------------------------------------------
# Processes that served version 1 must keep serving it; processes that
# never loaded the script may load the current file.
for my $case (['/reload/off', "$docroot/reload/off.wsgi", 'in a <Location>'],
              ['/reload/offdir/off.wsgi', "$docroot/reload/offdir/off.wsgi",
               'in a <Directory>'],
              ['/reload/htaccess/off.wsgi', "$docroot/reload/htaccess/off.wsgi",
               'in .htaccess']) {
    my ($url, $file, $where) = @$case;
    write_script($file, 1, $now - 100);
    my $v1 = versions($url, 40);
    ok t_cmp(join(',', sort keys %$v1), '1', "(setup $where) version 1 is served");
    write_script($file, 2, $now - 10);
    my $v2 = versions($url, 40);
    my @loaded = keys %{ $v1->{1} || {} };
    my @kept = grep { $v2->{1}{$_} } @loaded;
    my @reloaded = grep { $v2->{2}{$_} } @loaded;
    ok t_ok(@kept >= 1, "(setup $where) processes that loaded version 1 were asked again");
    ok t_cmp(scalar(@reloaded), 0,
             "WSGIScriptReloading Off $where: a loaded script is not reloaded after a change");
}

# --- On again, after Off: another script is unaffected --------------------------
{
    my $file = "$docroot/reload/on.wsgi";
    write_script($file, 4, $now - 5);
    ok t_cmp(join(',', sort keys %{ versions('/reload/on') }), '4',
             'WSGIScriptReloading Off elsewhere does not stop reloading of /reload/on');
}
