#!/bin/sh
# scripts/tsan.sh: run the Apache::Test suite (t/run.sh) under the event MPM
# against the module built with ThreadSanitizer (make tsan builds
# build/tsan/pyX.Y/mod_wsgi_lite.so first), then count the TSan reports whose
# stacks run through the module's own code.
#
# As in scripts/asan.sh, Apache, APR and Python are not instrumented: the
# suite is pointed (-httpd) at a wrapper that preloads libtsan into apache2
# and nothing else, so every server the tests start goes through it.  TSan
# then sees the module's own loads and stores, every pthread mutex,
# condition variable and thread start (the GIL, APR's mutexes), and the
# libc calls it intercepts.  No called_from_lib suppression is used for
# them: TSan then skips every interceptor called from that library,
# pthread_mutex_lock included, so the GIL (libpython) and APR's mutexes
# would vanish and every object they protect would look raced (162 such
# false reports from t/concurrency.t alone with libpython and libapr so
# named).  scripts/tsan.supp holds only what is Apache's own; it never
# names a function or file of the module.
#
# What is judged: reports with a frame in mod_wsgi_lite.so in one of their
# access stacks (the "Write of size"/"Previous read" stacks of a data race,
# the stack of a lock-order or signal report).  A module frame that only
# appears where a thread or mutex was created does not count (every Python
# thread an application starts was created under the module's handler).
# Other reports are listed by kind but do not fail the run.
#
#   scripts/tsan.sh [t/concurrency.t ...]   (arguments go to t/run.sh)
#   scripts/tsan.sh --soak                  soak/run.py instead of the suite,
#       against the same wrapper: a short run (SOAK_REQUESTS 3000) weighted
#       to the hostile applications, whose threads outlive their requests
#       (the suite has few of those); SOAK_* variables pass through.
#   WSL_MPMS="event prefork"                both MPMs (default: event)
#   TSAN_TIMEOUT=1080                       bound on the suite, seconds
#   TSAN_SETARCH=1                          httpd under setarch -R always
#   TSAN_SIGNAL_UNSAFE=1                    report signal-unsafe calls too
#   CC=gcc (default): the compiler the .so was built with
set -u
mode=suite
if [ "${1:-}" = --soak ]; then
    mode=soak
    shift
fi

top=$(cd "$(dirname "$0")/.." && pwd)
# make tsan passes its build for the Python of PYTHON_CONFIG
# (build/tsan/pyX.Y/).
so=${WSL_SAN_SO:-$top/build/tsan/py$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')/mod_wsgi_lite.so}
out=$top/build/tsan/logs
supp_src=$top/scripts/tsan.supp
cc=${CC:-gcc}
apxs=${APXS:-/usr/bin/apxs}
httpd=${HTTPD:-$($apxs -q SBINDIR)/$($apxs -q TARGET)}
limit=${TSAN_TIMEOUT:-1080}
WSL_MPMS=${WSL_MPMS:-event}
export WSL_MPMS

[ -f "$so" ] || { echo "tsan.sh: $so not built (make tsan)" >&2; exit 2; }
[ -f "$supp_src" ] || { echo "tsan.sh: $supp_src missing" >&2; exit 2; }

# The runtime gcc links (the .so's own, as ldd resolves it, if they differ),
# as a real path.
tsan=$(readlink -f "$($cc -print-file-name=libtsan.so)")
linked=$(ldd "$so" | awk '$1 ~ /libtsan/ { print $3 }')
[ -n "$linked" ] && linked=$(readlink -f "$linked")
if [ -n "$linked" ] && [ "$linked" != "$tsan" ]; then
    echo "tsan.sh: $so links $linked, not $cc's $tsan: using $linked"
    tsan=$linked
fi
[ -f "$tsan" ] || { echo "tsan.sh: libtsan not found ($tsan); make tsan-deps" >&2; exit 2; }

# TSan of gcc 12 maps its shadow at fixed addresses and dies ("unexpected
# memory mapping") when the kernel randomises mmap with more entropy than
# it expects; then httpd runs with ASLR off (setarch -R).
# TSAN_SETARCH=1 forces it.
setarch=""
[ -n "${TSAN_SETARCH:-}" ] && setarch="setarch $(uname -m) -R"
probe=$(LD_PRELOAD=$tsan $setarch "$httpd" -v 2>&1)
if ! printf '%s\n' "$probe" | grep -q '^Server version'; then
    if printf '%s\n' "$probe" | grep -q 'unexpected memory mapping' &&
        setarch "$(uname -m)" -R true 2>/dev/null; then
        setarch="setarch $(uname -m) -R"
        probe=$(LD_PRELOAD=$tsan $setarch "$httpd" -v 2>&1)
    fi
    printf '%s\n' "$probe" | grep -q '^Server version' || {
        echo "tsan.sh: $httpd does not start with $tsan preloaded:" >&2
        printf '%s\n' "$probe" | head -5 >&2
        exit 2
    }
fi

# The suite runs as an unprivileged user: the wrapper, the suppressions and
# the logs live in a directory it can read and write; reports are copied
# back afterwards.
logs=$(mktemp -d "${TMPDIR:-/tmp}/wsl-tsan.XXXXXX") || exit 2
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
cp "$supp_src" "$logs/tsan.supp" && chmod 644 "$logs/tsan.supp"
# exitcode=0: a child that wrote a report must still exit as Apache
# expects; the reports are counted from the log files.  die_after_fork=0:
# an application may fork from a threaded child (subprocess).
opts="log_path=$logs/tsan halt_on_error=0 exitcode=0 die_after_fork=0"
opts="$opts suppressions=$logs/tsan.supp second_deadlock_stack=1"
# report_signal_unsafe=0 (TSAN_SIGNAL_UNSAFE=1 turns it on): a prefork
# child told to stop hard exits from Apache's signal handler (just_die ->
# clean_child_exit -> apr_pool_destroy), so the child's pool cleanups, the
# module's Python finalisation among them, run in signal context by
# Apache's design, and every free() there is a report: 887,953 of them
# (421 MB of logs) in one prefork run.
opts="$opts history_size=4 report_signal_unsafe=${TSAN_SIGNAL_UNSAFE:-0}"
cat >"$logs/httpd" <<WRAPPER
#!/bin/sh
LD_PRELOAD=$tsan
TSAN_OPTIONS="$opts"
export LD_PRELOAD TSAN_OPTIONS
exec $setarch $httpd "\$@"
WRAPPER
chmod 755 "$logs/httpd"

WSL_MODULE_SO=$so
export WSL_MODULE_SO
echo "tsan.sh: $so, $httpd with $tsan preloaded${setarch:+ under $setarch}"
start=$(date +%s)
if [ "$mode" = soak ]; then
    echo "tsan.sh: soak/run.py (event MPM), bounded to ${limit}s"
    # RSS is not judged here: TSan's shadow memory grows with every page
    # touched (the normal make soak judges it).
    { SOAK_MODULE=$so APACHE=$logs/httpd SOAK_RESULTS=$logs/soak.md \
      SOAK_GROWTH_LIMIT_MB=${SOAK_GROWTH_LIMIT_MB:-1000000} \
      SOAK_REQUESTS=${SOAK_REQUESTS:-3000} \
      SOAK_MIX=${SOAK_MIX:-hello=25,post=15,stream=5,error=5,disconnect=5,hostile=45} \
      SOAK_FAULT_REPEAT=${SOAK_FAULT_REPEAT:-40} \
      SOAK_HOSTILE_REQUESTS=${SOAK_HOSTILE_REQUESTS:-0} \
      timeout -k 30 "$limit" /usr/bin/python3 "$top/soak/run.py"
      echo $? >"$logs/suite.rc"; } 2>&1 | tee "$logs/suite.log"
else
    echo "tsan.sh: MPM(s) $WSL_MPMS, suite bounded to ${limit}s"
    { timeout -k 30 "$limit" "$top/t/run.sh" -httpd "$logs/httpd" "$@"
      echo $? >"$logs/suite.rc"; } 2>&1 | tee "$logs/suite.log"
fi
suite=$(cat "$logs/suite.rc")
secs=$(( $(date +%s) - start ))
[ "$suite" -eq 124 ] && echo "tsan.sh: the suite ran out of time (${limit}s)"
echo "tsan.sh: suite took ${secs}s, exit $suite"
grep -E '^(=== mod_wsgi_lite tests|Files=|Result:|# Failed test|t/[a-z0-9_]+\.t +\(Wstat|phase [0-9]|  [0-9]+ requests|  hostile:|  RSS|  [0-9]/[0-9]+ streams|soak: )' \
    "$logs/suite.log" | sed 's/^/tsan.sh: /'

rm -rf "$out"
mkdir -p "$out"
cp -p "$logs"/tsan.* "$out"/ 2>/dev/null
rm -f "$out/tsan.supp"
cp -p "$logs/suite.log" "$out/suite.log"
[ -f "$logs/soak.md" ] && cp "$logs/soak.md" "$out/soak.md"

# One report: from "WARNING: ThreadSanitizer:" to the "=====" line.  Its
# sections start at lines that are not stack frames; "Location is",
# "Thread T.. created by" and "Mutex M.. created at" ones are context.
# A report whose two accesses are both libc calls that APR makes (read,
# writev, memcpy, pthread_mutex_destroy: #0 the interceptor, its caller in
# libapr or libaprutil) on memory of Apache worker threads, with no thread of the
# application in it, is the event MPM recycling a memory pool from one
# worker to the next through atomics inside APR, which TSan cannot see: the
# module's frame is only the caller of Apache's own I/O.  Counted apart.
awk -v summary="$out/summary.txt" -v modrep="$out/module-reports.txt" \
    -v recrep="$out/recycling-reports.txt" \
    -v firsts="$out/module-first.txt" '
function recycled(   i) {
    if (nacc < 2 || text ~ /PyThread_start_new_thread/) return 0
    for (i = 1; i <= 2; i++)
        if (fn0[i] !~ /^(read|readv|writev|write|memcpy|memmove|memset|pthread_mutex_destroy)$/ || !apr1[i])
            return 0
    return 1
}
function flush(   key) {
    if (!inrep) return
    kinds[kind]++
    if (hit && recycled()) {
        nrec++
        printf "=== %s (APR pool recycling)\n%s\n", FILENAME, text > recrep
    }
    else if (hit) {
        nmod++
        key = kind " | " sig
        sigs[key]++
        if (!(key in first)) {
            first[key] = FILENAME; order[++nkeys] = key
            printf "=== %s: %s\n%s\n\n", FILENAME, key, text > firsts
        }
        printf "=== %s (report %d of this kind)\n%s\n", FILENAME, sigs[key], text > modrep
    }
    inrep = 0
}
/WARNING: ThreadSanitizer:/ {
    flush()
    inrep = 1; hit = 0; ctx = 0; sig = ""; text = $0; nacc = 0; acc = 0
    kind = $0; sub(/.*WARNING: ThreadSanitizer: /, "", kind)
    sub(/ \(pid=.*/, "", kind); sub(/ in .*/, "", kind)
    next
}
!inrep { next }
/^==================/ { flush(); next }
{ text = text "\n" $0 }
/^ *#[0-9]+ / {
    if (acc && $1 == "#0") { fn0[acc] = $2; apr1[acc] = 0; called[acc] = 0 }
    else if (acc && !called[acc] && $0 !~ /libtsan\.so/) {
        called[acc] = 1     # the first frame past the interceptor
        apr1[acc] = ($0 ~ /libapr(util)?-1\.so/)
    }
    if (!ctx && $0 ~ /mod_wsgi_lite\.so\+0x/) {
        if (!hit || !seen_in_section) {
            f = $0; sub(/^ *#[0-9]+ /, "", f); sub(/ \(mod_wsgi_lite\.so.*/, "", f)
            sub(/.*\//, "", f)
            sig = sig (sig == "" ? "" : " / ") $2 " " f
        }
        hit = 1; seen_in_section = 1
    }
    next
}
/^[^ ]/ || /^  [A-Z]/ {
    seen_in_section = 0
    acc = 0
    if ($0 ~ /^  (Previous )?([Aa]tomic )?([Ww]rite|[Rr]ead) of size/ && nacc < 2)
        acc = ++nacc
    ctx = ($0 ~ /^ *(Location is|Thread T[0-9]+ .*created|Mutex M[0-9]+ .*created|Mutex M[0-9]+ \(.*created)/)
}
END {
    flush()
    printf "" > summary
    for (k in kinds) printf "%6d  %s\n", kinds[k], k >> summary
    printf "module reports: %d\n", nmod + 0 >> summary
    printf "APR pool recycling reports: %d\n", nrec + 0 >> summary
    for (i = 1; i <= nkeys; i++)
        printf "%6d  %s   (first in %s)\n", sigs[order[i]], order[i], first[order[i]] >> summary
}' $(ls "$out"/tsan.* 2>/dev/null) /dev/null

files=$(ls "$out"/tsan.* 2>/dev/null | wc -l)
all=$(cat "$out"/tsan.* 2>/dev/null | grep -c 'WARNING: ThreadSanitizer:')
mod=$(sed -n 's/^module reports: //p' "$out/summary.txt")
mod=${mod:-0}
echo "tsan.sh: $all TSan report(s) in $files log file(s) in $out, by kind:"
grep -v -e '^module reports:' -e '^APR pool' -e '|' "$out/summary.txt" | sed 's/^/tsan.sh:   /'
rec=$(sed -n 's/^APR pool recycling reports: //p' "$out/summary.txt")
echo "tsan.sh: ${rec:-0} report(s) of APR pool memory handed between MPM workers (both accesses APR's own libc calls, no application thread; not judged): $out/recycling-reports.txt"
echo "tsan.sh: $mod report(s) with mod_wsgi_lite code in an access stack, by kind | module frames:"
grep '|' "$out/summary.txt" | sed 's/^/tsan.sh:   /'
if [ "$mod" -gt 0 ]; then
    echo "tsan.sh: all of them are in $out/module-reports.txt; the first of each kind, in full (also in module-first.txt):"
    awk '/^=== / { n = 0 } { if (++n <= 60) print }' "$out/module-first.txt"
fi
grep -l 'FATAL: ThreadSanitizer' "$out"/tsan.* 2>/dev/null | sed 's/^/tsan.sh: FATAL in /'

if [ "$mod" -gt 0 ]; then
    echo "tsan.sh: FAILED: $mod TSan report(s) in module code"
    exit 1
fi
if [ "$suite" -ne 0 ]; then
    echo "tsan.sh: FAILED: the suite failed (exit $suite)"
    exit 1
fi
echo "tsan.sh: passed: the suite passed, 0 TSan reports in module code"
exit 0
