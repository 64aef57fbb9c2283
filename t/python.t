# python.t: the server embeds the Python the module was built for.
#
# WSL_PYTHON names that interpreter (make test and make test-python pass
# the Makefile's PY_EXE through t/run.sh; /usr/bin/python3 when unset).
# Run as the test user, it tells its version and prefix, and the server's
# /sysinfo must tell the same: a module that loaded another libpython (a
# wrong rpath, a stray LD_LIBRARY_PATH) or that found another standard
# library fails here.  The other files use the same answer
# (WSLTest::embedded_python) to skip what needs Debian's python3-*
# packages on another Python, so this file also checks that answer.
use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test;
use Apache::TestUtil;
use JSON::PP ();
use WSLTest qw(t_ok diag embedded_python debian_python expected_mpm);

plan tests => 5, need_module 'mod_wsgi_lite.c';

my $exe = $ENV{WSL_PYTHON} || '/usr/bin/python3';
my $probe = 'import json, os, sys; print(json.dumps({'
    . '"version": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix, '
    . '"stdlib": os.path.dirname(os.__file__)}))';
my $out = `"$exe" -I -c '$probe' 2>&1`;
my $want = eval { JSON::PP::decode_json($out) } || {};
ok t_ok($want->{version}, "(setup) $exe runs as the test user and reports its version")
    or diag($out);

my $got = embedded_python();
ok t_cmp($got->{version} // 'no answer', $want->{version} // '?',
         "the server embeds Python " . ($want->{version} // "?") . ", as $exe is");
ok t_cmp($got->{prefix} // 'no answer', $want->{prefix} // '?',
         'with the same sys.prefix');
ok t_cmp($got->{stdlib} // 'no answer', $want->{stdlib} // '?',
         'and the same standard library');
ok t_cmp($got->{xy} // 'no answer', qr/^3\.\d+$/,
         'WSLTest::embedded_python gives X.Y for the skips');
diag(sprintf('%s MPM: the module embeds Python %s (%s); Debian\'s python3 is %s',
             expected_mpm(), $got->{version} // '?',
             $got->{prefix} // '?', debian_python()));
