#!/bin/sh
# scripts/test-pythons.sh [VERSION | CONFIG] ...: the whole suite (t/run.sh,
# both MPMs unless WSL_MPMS says otherwise) against the module built for
# each other Python named, one after the other.  make test-pythons runs it
# with PYTHONS (default: 3.12 3.13).
#
#   3.13, 3.13.0   the newest (or that) pyenv build under PYENV_VERSIONS
#                  (/root/.pyenv/versions), copied to PYTHON_COPIES
#                  (/opt/wsl-python)/3.13.0 by scripts/python-copy.sh when
#                  missing or stale, because Apache's user cannot read /root
#   /usr/bin/python3.12-config
#                  a Python Apache's user can already read (a
#                  distribution's): used where it is
#
# Each runs as `make test-python PYTHON_CONFIG=...`: the module is built
# into build/pyX.Y/ (never .libs/, which stays the default build), then
# t/run.sh runs with WSL_MODULE_SO pointing at it and WSL_PYTHON at its
# interpreter, which t/python.t compares with the one the server embeds.  A
# version that cannot be found, copied or built is reported as MISSING or
# FAILED and makes the exit status 1; nothing is skipped silently.  The
# last lines are one summary line per Python.
#
#   newest         instead of a list: only the newest 3.X (X > the Debian
#                  python3's) under PYENV_VERSIONS (or copied from there
#                  before), or say that there is none and exit 0: what
#                  .ci/run runs (make test-pythons PYTHONS=newest)
#   TESTS="t/environ.t ..."   only those files (passed to t/run.sh)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
versions=${PYENV_VERSIONS:-/root/.pyenv/versions}
copies=${PYTHON_COPIES:-/opt/wsl-python}
make=${MAKE:-make}
debian=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# Where a VERSION's build is, and which is the newest: python-config.sh
# (make bench-pool finds its Python the same way).
pyconfig=./scripts/python-config.sh

if [ "${1:-}" = newest ]; then
    shift
    newest=$(PYENV_VERSIONS=$versions PYTHON_COPIES=$copies $pyconfig newest)
    if [ -z "$newest" ]; then
        echo "test-pythons: no Python newer than Debian's $debian under" \
             "$versions or $copies: only Debian's $debian was tested"
        exit 0
    fi
    echo "test-pythons: newest Python beside Debian's $debian: $newest"
    set -- "$newest" "$@"
fi
wanted=$*
[ -n "$wanted" ] || { echo "usage: $0 newest | VERSION|CONFIG ..." >&2; exit 2; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/wsl-pythons.XXXXXX") || exit 2
trap 'rm -rf "$logs"' EXIT
summary=""
status=0
note() {
    summary="$summary
$1"
}

for want in $wanted; do
    echo "=== test-pythons: $want ==="
    case "$want" in
    */*-config)
        config=$want
        label=$config
        "$config" --prefix >/dev/null 2>&1 || {
            echo "test-pythons: $config does not run" >&2
            note "$want: MISSING ($config does not run)"
            status=1
            continue
        }
        ;;
    3.[0-9]*)
        config=$(PYENV_VERSIONS=$versions PYTHON_COPIES=$copies \
                 $pyconfig "$want")
        case $? in
        0) ;;
        3)
            note "Python $want: FAILED (could not copy it to $copies)"
            status=1
            continue
            ;;
        *)
            note "Python $want: MISSING (not under $versions or $copies)"
            status=1
            continue
            ;;
        esac
        label="Python $want ($config)"
        ;;
    *)
        echo "test-pythons: '$want' is neither X.Y[.Z] nor a path to a" \
             "pythonX.Y-config" >&2
        note "$want: FAILED (not a version or a config)"
        status=1
        continue
        ;;
    esac

    # Build into build/pyX.Y/ and run the suite; the outcome is read from
    # run.sh's last line (a pipe hides make's exit status).
    log=$logs/run.log
    : >"$log"
    $make --no-print-directory test-python PYTHON_CONFIG="$config" \
        TESTS="${TESTS:-}" 2>&1 | tee "$log"
    # What each MPM's run used and counted, from the run's own lines:
    # run.sh's banner, Apache::Test's totals and t/python.t's answer from
    # the server.
    runs=$(sed -n -e 's/^=== mod_wsgi_lite tests: \([a-z]*\) MPM, .*/\1:/p' \
                  -e 's/^# [a-z]* MPM: the module embeds \(Python [^;]*\);.*/\1,/p' \
                  -e 's/^Files=\([0-9]*\), Tests=\([0-9]*\),.*/\1 files, \2 tests,/p' \
                  -e 's/^Result: \(.*\)/\1;/p' "$log" | paste -sd' ' -)
    if grep -q '^=== mod_wsgi_lite tests passed under' "$log"; then
        note "$label: passed: $runs"
    elif grep -q '^=== mod_wsgi_lite tests' "$log"; then
        note "$label: FAILED: $runs"
        status=1
    else
        note "$label: FAILED (the build or the start of the run failed; see above)"
        status=1
    fi
done

echo "=== test-pythons summary (Debian's python3 is $debian) ===$summary"
exit $status
