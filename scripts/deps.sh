#!/bin/sh
# Installs the Debian packages that building, running and testing
# mod_wsgi_lite need, but only those that are missing, so that a second run
# costs one dpkg query.  Used by `make run`, `make test` and .ci/run.
#
#   scripts/deps.sh                 what building and `make run` need
#   scripts/deps.sh --tests         that, plus what only the test suite needs
#   scripts/deps.sh [--tests] PKG.. that, plus the named packages
set -eu

packages="apache2 apache2-dev python3 python3-dev libapache2-mod-perl2
libwww-perl python3-flask python3-django curl openssl make gcc"

# Only the suite needs these: t/apps.t serves third-party applications
# that Debian packages (hgweb, Radicale, graphite-web) and drives them with
# their real clients (hg, python3-caldav); t/route.t talks TLS to an HTTPS
# virtual host (IO::Socket::SSL); t/compat.t compares with
# Debian's mod_wsgi 4.9.4, loaded only by that test's own Apache (never
# beside mod_wsgi_lite, never by the system's Apache: see below);
# t/daemon.t makes a virtualenv for python-home= (python3 -m venv).
mod_wsgi_pkg=libapache2-mod-wsgi-py3
test_packages="mercurial python3-radicale graphite-web python3-caldav
libio-socket-ssl-perl python3-venv $mod_wsgi_pkg"

if [ "${1:-}" = --tests ]; then
    shift
    packages="$packages $test_packages"
fi
[ "$#" -gt 0 ] && packages="$packages $*"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# The package scripts would start the system Apache on port 80; we never
# want that, so keep invoke-rc.d from starting services during the install.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    created_policy=yes
fi
apt-get install -y -q --no-install-recommends $missing
[ "$created_policy" = yes ] && rm -f "$policy"
# mod_wsgi's package scripts enable it in /etc/apache2 (mods-enabled/
# wsgi.load); give the system Apache back the modules it had, so that a
# system config loading mod_wsgi_lite never gets mod_wsgi beside it.
case " $missing " in
*" $mod_wsgi_pkg "*)
    if [ -e /etc/apache2/mods-enabled/wsgi.load ] && \
       command -v a2dismod >/dev/null 2>&1; then
        a2dismod -q wsgi >/dev/null || true
    fi
    ;;
esac
exit 0
