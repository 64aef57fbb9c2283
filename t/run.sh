#!/bin/sh
# t/run.sh: run the Apache::Test suite against the built module, once under
# the event MPM and once under prefork.  Called by `make test` (as root or
# not) after .libs/mod_wsgi_lite.so is built.
#
# Apache::Test refuses to run as root, so as root the suite runs as an
# unprivileged user (WSL_TEST_USER, default wsltest, created if missing).
# Either way it runs in a fresh copy of t/, examples/ and scripts/ (the
# launcher, for express.t) in a temporary directory, so the checkout gets
# no t/logs or generated config and the test user needs no access to the
# checkout.
#
#   t/run.sh                   both MPMs, all tests
#   t/run.sh t/environ.t ...   both MPMs, the named tests
#   WSL_MPMS=prefork t/run.sh  one MPM only
#   WSL_MODES=daemon           one mode only (default "embedded daemon":
#                              daemon runs every file again with the
#                              whole server in a daemon process group)
#   WSL_TEST_VERBOSE=1         pass -verbose to Apache::Test
#   WSL_KEEP=1                 keep the temporary copy (t/logs) afterwards
#   WSL_MODULE_SO=path.so      test that build (default .libs/mod_wsgi_lite.so)
#   WSL_PYTHON=/path/python3.X the interpreter it was built for, which
#                              t/python.t compares with the one the server
#                              embeds (default /usr/bin/python3)
#
# t/root/*.t are not Apache::Test files: plain Test::More files that start
# Apache as root themselves (user=/group= of WSGIDaemonProcess apply only
# then).  They run after the suite, as root, when no file is named or when
# they are; not as root, run.sh says they were skipped and why.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
so=${WSL_MODULE_SO:-$top/.libs/mod_wsgi_lite.so}
python=${WSL_PYTHON:-/usr/bin/python3}
mpms=${WSL_MPMS:-event prefork}
modes=${WSL_MODES:-embedded daemon}
user=${WSL_TEST_USER:-wsltest}
apxs=${APXS:-/usr/bin/apxs}

# The t/root/ files named (or all, when none is), taken out of the
# arguments Apache::Test gets; only t/root/ files named: no suite run.
root_tests=
run_suite=yes
if [ $# -eq 0 ]; then
    root_tests=$(ls "$top"/t/root/*.t 2>/dev/null)
else
    for arg in "$@"; do
        shift
        case $arg in
        t/root/*.t|*/t/root/*.t) root_tests="$root_tests $arg" ;;
        *) set -- "$@" "$arg" ;;
        esac
    done
    [ $# -eq 0 ] && run_suite=no
fi

if [ ! -f "$so" ]; then
    echo "run.sh: $so not found; run make first" >&2
    exit 2
fi

as_root=no
if [ "$(id -u)" -eq 0 ]; then
    as_root=yes
    if ! id "$user" >/dev/null 2>&1; then
        echo "run.sh: creating test user $user"
        useradd --system --create-home --shell /bin/sh "$user" || exit 2
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsl-test.XXXXXX") || exit 2
chmod 755 "$tmp"

# Stop any httpd this run left behind (by the pid it wrote), then remove
# the copy.
cleanup() {
    for pidfile in "$tmp"/*/t/logs/httpd.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile" 2>/dev/null)
        case "$pid" in ''|*[!0-9]*) continue ;; esac
        if kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: stopping leftover httpd $pid"
            kill -TERM "$pid" 2>/dev/null
            sleep 2
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        fi
    done
    if [ -n "${WSL_KEEP:-}" ]; then
        echo "run.sh: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_one() {
    mpm=$1
    mode=$2
    shift 2
    dir=$tmp/$mpm-$mode
    mkdir -p "$dir/.libs"
    # Copy the sources of the suite, not what an earlier in-place run
    # generated (t/logs, t/conf/httpd.conf, t/TEST, ...), nor t/root/
    # (not Apache::Test files: run_root runs them from the checkout).
    parts=t
    for d in examples scripts; do
        [ -d "$top/$d" ] && parts="$parts $d"
    done
    (cd "$top" && tar cf - --exclude=t/logs --exclude=t/root \
        --exclude='t/conf/*.conf' \
        --exclude=t/conf/apache_test_config.pm --exclude=t/TEST \
        --exclude='__pycache__' $parts) | (cd "$dir" && tar xf -) \
        || return 2
    cp "$so" "$dir/.libs/mod_wsgi_lite.so" || return 2

    set -- -apxs "$apxs" -port select "$@"
    [ -n "${WSL_TEST_VERBOSE:-}" ] && set -- -verbose "$@"
    # A clean environment: no pyenv shims or PYTHON* variables may leak into
    # the embedded interpreter or the tests.
    envv="PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=$dir
WSL_MPM=$mpm WSL_MODE=$mode WSL_MODULE_SO=$dir/.libs/mod_wsgi_lite.so WSL_PYTHON=$python"
    # Apache::Test wants core files allowed (it reports the ones a crash
    # leaves) and, when they are not, re-executes itself under
    # `ulimit -c unlimited` with a warning.  Raise the soft limit to the hard
    # one first, inside runuser (its PAM session resets limits), so that
    # only a hard limit below unlimited makes it warn.
    start_suite='ulimit -c "$(ulimit -H -c)"; exec perl t/TEST.PL "$@"'
    echo "=== mod_wsgi_lite tests: $mpm MPM, $mode mode, $so built for $python ==="
    [ "$as_root" = yes ] && { chown -R "$user:" "$dir" || return 2; }
    {
        if [ "$as_root" = yes ]; then
            (cd "$dir" && runuser -u "$user" -- env -i $envv \
                /bin/sh -c "$start_suite" sh "$@")
        else
            (cd "$dir" && env -i $envv /bin/sh -c "$start_suite" sh "$@")
        fi
        echo $? >"$dir/rc"
    } 2>&1 | tee "$dir/run.log"
    # Apache::Test skips a file whose need_module fails, and a skip passes.
    # Every file here needs mod_wsgi_lite, so a skip for that reason means
    # the harness did not load the module (seen once when another server
    # held the ports): the run tested nothing and must not pass.
    if grep -q "skipped: cannot find module 'mod_wsgi_lite.c'" \
        "$dir/run.log"; then
        echo "run.sh: under $mpm ($mode), test files were skipped because" \
            "Apache::Test found no mod_wsgi_lite: nothing was tested" >&2
        return 1
    fi
    return "$(cat "$dir/rc")"
}

# The harness's failure report for one MPM, printed again at the very end:
# CI shows only the tail of the output, and the second MPM's run would
# otherwise push the first one's report out of it.
report() {
    log=$tmp/$1/run.log
    [ "$1" = root ] && log=$tmp/root.log
    [ -f "$log" ] || return 0
    echo "--- $1: failures ---"
    grep -E '^not ok|^# +Failed test|^# (testing|expected|received) *:|^t/.*\.t \.+ *(Dubious|Failed)|^Test Summary Report|^t/.*\(Wstat|^  Failed tests?:|^  Non-zero|Bailout|^run\.sh:' "$log" | head -120
}

# The root-only files, as root, with the MPMs and the build of this run.
run_root() {
    if [ "$as_root" != yes ]; then
        echo "run.sh: skipped$root_tests: they start Apache as root" \
            "(WSGIDaemonProcess user=/group=), and this run is not root"
        return 0
    fi
    echo "=== mod_wsgi_lite root-only tests: $mpms, $so ==="
    {
        (cd "$top" && env -i PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin \
            LANG=C.UTF-8 WSL_MPMS="$mpms" WSL_MODULE_SO="$so" \
            WSL_TEST_USER="$user" TMPDIR="$tmp" prove $root_tests)
        echo $? >"$tmp/root.rc"
    } 2>&1 | tee "$tmp/root.log"
    return "$(cat "$tmp/root.rc")"
}

status=0
failed=""
if [ "$run_suite" = yes ]; then
    for mpm in $mpms; do
        for mode in $modes; do
            if ! run_one "$mpm" "$mode" "$@"; then
                status=1
                failed="$failed $mpm-$mode"
            fi
        done
    done
fi
if [ -n "$root_tests" ] && ! run_root; then
    status=1
    failed="$failed root"
fi

if [ "$status" -ne 0 ]; then
    for mpm in $failed; do report "$mpm"; done
    # Apache::Test says "please examine t/logs/error_log": that is in the
    # temporary copy, which cleanup removes.
    [ -n "${WSL_KEEP:-}" ] ||
        echo "run.sh: t/logs/error_log is removed with the copy;" \
            "rerun with WSL_KEEP=1 to keep it"
    echo "=== mod_wsgi_lite tests FAILED under:$failed ==="
else
    echo "=== mod_wsgi_lite tests passed under: $mpms, in modes: $modes ==="
fi
exit $status
