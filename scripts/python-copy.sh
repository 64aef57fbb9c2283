#!/bin/sh
# scripts/python-copy.sh SRC DEST: make DEST a world-readable, working copy
# of the shared-library Python installation SRC (a pyenv build such as
# /root/.pyenv/versions/3.13.0), for make test-pythons: Apache's user
# cannot read /root, so a module linked against SRC could not load there.
#
# The copy is made only when DEST is missing or stale: DEST/.wsl-python-copy
# records SRC and the size and mtime of its interpreter and libpython, and
# a copy whose record differs (or that has none: made by hand or by an older
# run) is replaced.  When SRC is gone, a copy made by this script is kept
# and used as it is.  The new copy is assembled beside DEST and moved into
# place, so an interrupted run leaves no half copy under DEST's name.
#
# In the copy, the interpreter's RUNPATH (pyenv links it to SRC/lib) becomes
# $ORIGIN/../lib, so DEST/bin/pythonX.Y runs for any user; the python-config
# scripts still print SRC's rpath, which the Makefile rewrites (PY_LDFLAGS).
# Needs patchelf (scripts/deps.sh patchelf, make pythons-deps).
set -eu

[ "$#" -eq 2 ] || { echo "usage: $0 SRC DEST" >&2; exit 2; }
src=${1%/}
dest=${2%/}
marker=.wsl-python-copy

# The X.Y of the installation in $1: its bin/pythonX.Y.
xy_of() {
    for exe in "$1"/bin/python3.*; do
        name=${exe##*/python}
        case "$name" in
        3.[0-9]|3.[0-9][0-9]) echo "$name"; return 0 ;;
        esac
    done
    return 1
}

# What the marker records for the installation SRC.
fingerprint() {
    echo "source $src"
    stat -c '%n %s %Y' "$src/bin/python$xy" "$src"/lib/libpython"$xy"*.so*
}

if [ ! -d "$src" ]; then
    if [ -f "$dest/$marker" ]; then
        echo "python-copy: $src is gone; using the copy $dest as it is"
        exit 0
    fi
    echo "python-copy: $src not found, and $dest is no copy of it" >&2
    exit 1
fi
xy=$(xy_of "$src") || { echo "python-copy: no bin/python3.X in $src" >&2; exit 1; }
ls "$src"/lib/libpython"$xy"*.so* >/dev/null 2>&1 || {
    echo "python-copy: $src has no lib/libpython$xy.so (not a shared build)" >&2
    exit 1
}

want=$(fingerprint)
if [ -f "$dest/$marker" ] && [ "$(cat "$dest/$marker")" = "$want" ]; then
    echo "python-copy: $dest is up to date (copy of $src)"
    exit 0
fi

if [ -e "$dest" ]; then
    echo "python-copy: $dest is stale or not made by this script; copying $src again"
else
    echo "python-copy: copying $src to $dest"
fi
command -v patchelf >/dev/null 2>&1 || {
    echo "python-copy: patchelf not found (scripts/deps.sh patchelf)" >&2
    exit 1
}
parent=$(dirname "$dest")
mkdir -p "$parent"
# Every directory above the copy must let others through.
d=$parent
while [ "$d" != / ]; do
    case "$(stat -c %A "$d")" in
    ?????????[xt]) ;;
    *) echo "python-copy: $d is not searchable by others: Apache's user" \
           "could not reach $dest" >&2; exit 1 ;;
    esac
    d=$(dirname "$d")
done

tmp=$(mktemp -d "$parent/.${dest##*/}.new.XXXXXX")
old=""
trap 'rm -rf "$tmp" ${old:+"$old"}' EXIT
cp -a "$src/." "$tmp/"
patchelf --set-rpath '$ORIGIN/../lib' "$tmp/bin/python$xy"
chmod -R a+rX "$tmp"

# The copy must run from its own prefix, as a user who cannot read SRC
# (nobody, when this runs as root).
as_other=""
[ "$(id -u)" -eq 0 ] && as_other="runuser -u nobody --"
prefix=$($as_other env -i "$tmp/bin/python$xy" -I -c 'if 1:
    import os, sys
    print(sys.prefix if os.__file__.startswith(sys.prefix + "/") else "")'
) || prefix=""
if [ "$prefix" != "$tmp" ]; then
    echo "python-copy: the copy's python$xy does not run from its own" \
         "prefix ${as_other:+as nobody }(sys.prefix: '$prefix')" >&2
    exit 1
fi

printf '%s\n' "$want" >"$tmp/$marker"
chmod 644 "$tmp/$marker"
if [ -e "$dest" ]; then
    old=$(mktemp -d "$parent/.${dest##*/}.old.XXXXXX")
    mv "$dest" "$old/"
fi
mv "$tmp" "$dest"
echo "python-copy: $dest ready (Python $xy)"
