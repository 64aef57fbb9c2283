#!/bin/sh
# scripts/python-config.sh newest | VERSION: the other Pythons the module
# is built for, found the one way make test-pythons and make bench-pool
# both use.
#
#   newest     prints X.Y: the newest 3.X (X > the Debian python3's) under
#              PYENV_VERSIONS (/root/.pyenv/versions) that is a
#              shared-library build, or that scripts/python-copy.sh copied
#              to PYTHON_COPIES (/opt/wsl-python) earlier; prints nothing
#              (status 0) when there is none
#   3.13, 3.13.0
#              prints the path of the python3.X-config to build with: that
#              of the newest (or that) pyenv build, copied to
#              PYTHON_COPIES/X.Y.Z by scripts/python-copy.sh when missing
#              or stale, because Apache's user cannot read /root; or, when
#              there is no such build (a fresh machine), of a copy made
#              earlier.  Status 1: no build and no copy; 3: the copy
#              failed; 2: VERSION is not X.Y[.Z].
#
# What python-copy.sh says goes to stderr; stdout is only the answer.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
versions=${PYENV_VERSIONS:-/root/.pyenv/versions}
copies=${PYTHON_COPIES:-/opt/wsl-python}
debian=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# The newest X.Y.Z under $versions for $1 (X.Y or X.Y.Z), as a directory
# that holds a shared-library build (bin/pythonX.Y-config, lib/libpython).
pyenv_build() {
    case "$1" in
    *.*.*) xy=${1%.*}; pattern=$1 ;;
    *)     xy=$1; pattern="$1.*" ;;
    esac
    for d in $(ls -d "$versions"/$pattern 2>/dev/null | sort -V -r); do
        case "${d##*/}" in *[!0-9.]*) continue ;; esac
        if [ -x "$d/bin/python$xy-config" ] &&
           ls "$d"/lib/libpython"$xy"*.so* >/dev/null 2>&1; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# The copy python-copy.sh made of $1 (X.Y or X.Y.Z) under $copies, newest
# first, when there is one.
earlier_copy() {
    ls -d "$copies/$1" "$copies/$1".* 2>/dev/null | sort -V -r |
    while read -r d; do
        [ -f "$d/.wsl-python-copy" ] && { echo "$d"; break; }
    done
}

# The newest 3.X newer than Debian's python3 that is under $versions (or
# was copied from there earlier), as X.Y.
newest_extra() {
    { ls "$versions"; ls "$copies"; } 2>/dev/null |
    grep -E '^3\.[0-9]+\.[0-9]+$' | sort -V -r -u |
    while read -r v; do
        xy=${v%.*}
        [ "${xy#3.}" -gt "${debian#3.}" ] || continue
        if pyenv_build "$v" >/dev/null || [ -n "$(earlier_copy "$v")" ]; then
            echo "$xy"
            break
        fi
    done
}

want=${1:-}
case "$want" in
newest)
    newest_extra
    exit 0
    ;;
3.[0-9]*) ;;
*)
    echo "usage: $0 newest | X.Y[.Z]" >&2
    exit 2
    ;;
esac

if src=$(pyenv_build "$want"); then
    prefix=$copies/${src##*/}
    "$top/scripts/python-copy.sh" "$src" "$prefix" >&2 || {
        echo "python-config: could not copy $src to $prefix" >&2
        exit 3
    }
else
    # No build to copy (a fresh machine): a copy python-copy.sh made
    # earlier will do; anything else is missing.
    prefix=$(earlier_copy "$want")
    if [ -z "$prefix" ]; then
        echo "python-config: Python $want: no shared-library build" \
             "under $versions, and no copy under $copies" >&2
        exit 1
    fi
    echo "python-config: Python $want is not under $versions;" \
         "using the copy $prefix made earlier" >&2
fi
xy=$(ls "$prefix"/bin | sed -n 's/^python\(3\.[0-9][0-9]*\)-config$/\1/p' | head -1)
echo "$prefix/bin/python$xy-config"
