#!/bin/sh
# scripts/asan.sh: run the whole Apache::Test suite (t/run.sh, both MPMs)
# against the module built with AddressSanitizer and UBSan (make asan builds
# build/asan/pyX.Y/mod_wsgi_lite.so first), then fail if either sanitizer wrote a
# report.
#
# Apache and Python are not instrumented, so the sanitizer runtimes are
# preloaded into httpd alone: the suite is pointed (-httpd) at a wrapper
# that sets LD_PRELOAD and execs apache2, and every server the tests start
# (the suite's, WSLServer's private ones, configtests) goes through it.
# Leak detection is off: CPython keeps interned objects and arenas to the
# end of the process by design and Apache children exit without freeing
# their pools, so LeakSanitizer would report the interpreter, not this
# module.  Per-request leaks are what `make valgrind` and the soak test
# look for.
#
#   scripts/asan.sh [t/environ.t ...]     (arguments go to t/run.sh)
#   CC=gcc (default) or clang: the compiler the .so was built with
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# make asan passes its build for the Python of PYTHON_CONFIG
# (build/asan/pyX.Y/).
so=${WSL_SAN_SO:-$top/build/asan/py$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')/mod_wsgi_lite.so}
out=$top/build/asan/logs
cc=${CC:-gcc}
apxs=${APXS:-/usr/bin/apxs}
httpd=${HTTPD:-$($apxs -q SBINDIR)/$($apxs -q TARGET)}

[ -f "$so" ] || { echo "asan.sh: $so not built (make asan)" >&2; exit 2; }

# The runtimes the .so was linked against, as real paths.
runtime() {
    lib=$(ldd "$so" | awk -v n="$1" '$1 ~ n { print $3 }')
    [ -n "$lib" ] || lib=$($cc -print-file-name="$1.so")
    readlink -f "$lib"
}
asan=$(runtime libasan)
ubsan=$(runtime libubsan)
for lib in "$asan" "$ubsan"; do
    [ -f "$lib" ] || { echo "asan.sh: sanitizer runtime not found ($lib)" >&2; exit 2; }
done

# The suite runs as an unprivileged user: the wrapper and the logs live in
# a directory it can read and write; reports are copied back afterwards.
logs=$(mktemp -d "${TMPDIR:-/tmp}/wsl-asan.XXXXXX") || exit 2
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
cat >"$logs/httpd" <<WRAPPER
#!/bin/sh
LD_PRELOAD=$asan:$ubsan
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:log_path=$logs/asan
UBSAN_OPTIONS=print_stacktrace=1:log_path=$logs/ubsan
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec $httpd "\$@"
WRAPPER
chmod 755 "$logs/httpd"

WSL_MODULE_SO=$so
export WSL_MODULE_SO
echo "asan.sh: $so, $httpd with $asan $ubsan preloaded"
start=$(date +%s)
{ "$top/t/run.sh" -httpd "$logs/httpd" "$@"; echo $? >"$logs/suite.rc"; } \
    2>&1 | tee "$logs/suite.log"
suite=$(cat "$logs/suite.rc")
echo "asan.sh: suite took $(( $(date +%s) - start ))s, exit $suite"
grep -E '^(=== mod_wsgi_lite tests|Files=|Result:|# Failed test|t/[a-z]+\.t +\(Wstat)' \
    "$logs/suite.log" | sed 's/^/asan.sh: /'

rm -rf "$out"
mkdir -p "$out"
cp -p "$logs"/asan.* "$logs"/ubsan.* "$out"/ 2>/dev/null
reports=0
for f in "$out"/*; do
    [ -s "$f" ] || continue
    reports=$((reports + 1))
    echo "=== $f"
    head -60 "$f"
done
echo "asan.sh: $reports sanitizer report file(s) in $out"
[ "$reports" -eq 0 ] || exit 1
# No sanitizer report, but a failed test still fails the target: ASan
# makes the module and Python's allocations slower, and a test's timing
# bar can trip on a loaded machine; the lines above say which.
exit $suite
