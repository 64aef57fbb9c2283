#!/bin/sh
# bench/deps.sh: what `make bench` needs beyond scripts/deps.sh: wrk (the
# load generator) and, as the reference to compare with, Debian's mod_wsgi
# (libapache2-mod-wsgi-py3).  mod_wsgi is never a dependency of the module:
# bench/run.py leaves it out when it is not installed, so its install may
# fail (e.g. not root) without stopping the benchmark.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/deps.sh" wrk

pkg=libapache2-mod-wsgi-py3
if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'
then
    if "$top/scripts/deps.sh" "$pkg"; then
        # Its package scripts enable it in /etc/apache2 (mods-enabled/
        # wsgi.load).  The benchmark loads it from its own generated
        # configuration only, so give the system Apache back the modules
        # it had: a system config that loads mod_wsgi_lite must not get
        # mod_wsgi's same-named directives next to it at its next restart.
        if [ -e /etc/apache2/mods-enabled/wsgi.load ] && \
           command -v a2dismod >/dev/null 2>&1; then
            a2dismod -q wsgi >/dev/null || true
        fi
    else
        echo "bench/deps.sh: $pkg not installed; the benchmark runs" \
             "without mod_wsgi" >&2
    fi
fi
exit 0
