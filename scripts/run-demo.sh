#!/bin/sh
# Serve the demo (conf/demo.conf.in: the seed tutorial's examples) on
# 127.0.0.1:$PORT (default 8000) with Apache in the foreground: Ctrl-C or
# SIGTERM stops it, SIGHUP restarts it.  Called by `make run` once the module
# is built; can be run by hand as well.
#
#   PORT=8080           another port
#   WSL_MODULE_SO=...   another build of the module
#   HTTPD=...           another httpd binary (default /usr/sbin/apache2)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8000}
module=${WSL_MODULE_SO:-$top/.libs/mod_wsgi_lite.so}
httpd=${HTTPD:-/usr/sbin/apache2}
tmpbase=${TMPDIR:-/tmp}

case "$port" in
    ''|*[!0-9]*) echo "run-demo: PORT must be a number, not '$port'" >&2
                 exit 1 ;;
esac
[ -f "$module" ] || { echo "run-demo: $module not built (run make)" >&2; exit 1; }
[ -x "$httpd" ] || { echo "run-demo: $httpd not found (run scripts/deps.sh)" >&2; exit 1; }

# Apache is exec'd below, so that Ctrl-C, SIGTERM and SIGHUP reach it
# directly, and nothing is left to remove its run directory when it stops.
# Remove those of earlier demos instead: ours (marked), with no live server.
for old in "$tmpbase"/wsl-demo.*; do
    [ -f "$old/.wsl-demo" ] && [ -O "$old" ] || continue
    pid=$(cat "$old/httpd.pid" 2>/dev/null || true)
    case "$pid" in
        ''|*[!0-9]*) ;;
        *) kill -0 "$pid" 2>/dev/null && continue ;;
    esac
    rm -rf "$old"
done

rundir=$(mktemp -d "$tmpbase/wsl-demo.XXXXXX")
: >"$rundir/.wsl-demo"
mkdir "$rundir/htdocs"
chmod 755 "$rundir" "$rundir/htdocs"

# As root, Apache's children run as www-data, which must be able to read
# the scripts: serve a copy when the checkout is not readable by it.
examples=$top/examples
user=""
if [ "$(id -u)" -eq 0 ]; then
    user="User www-data
Group www-data"
    readable=yes
    for f in "$examples"/*.wsgi; do
        if ! runuser -u www-data -- test -r "$f" 2>/dev/null; then
            readable=no
            break
        fi
    done
    if [ "$readable" = no ]; then
        cp -r "$examples" "$rundir/examples"
        chmod -R a+rX "$rundir/examples"
        examples=$rundir/examples
        echo "run-demo: $top is not readable by www-data; serving a copy" \
             "of examples/ from $examples"
    fi
fi

# The logs go to the terminal: Apache reopens /dev/stderr and /dev/stdout,
# which fails only when they were redirected to a file we may not write.
errorlog=/dev/stderr
accesslog=/dev/stdout
if [ ! -w /dev/stderr ]; then
    errorlog=$rundir/error_log
    echo "run-demo: cannot reopen stderr; error log in $errorlog"
fi
if [ ! -w /dev/stdout ]; then
    accesslog=$rundir/access_log
    echo "run-demo: cannot reopen stdout; access log in $accesslog" >&2
fi

conf=$rundir/httpd.conf
USERLINES=$user awk -v rundir="$rundir" -v port="$port" -v module="$module" \
    -v examples="$examples" -v errorlog="$errorlog" \
    -v accesslog="$accesslog" '
    { gsub(/@RUNDIR@/, rundir); gsub(/@PORT@/, port);
      gsub(/@MODULE@/, module); gsub(/@EXAMPLES@/, examples);
      gsub(/@ERRORLOG@/, errorlog); gsub(/@ACCESSLOG@/, accesslog);
      if ($0 == "@USER@") $0 = ENVIRON["USERLINES"]; print }' \
    "$top/conf/demo.conf.in" >"$conf"

if ! out=$("$httpd" -t -f "$conf" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "run-demo: configuration test failed ($conf)" >&2
    exit 1
fi

cat <<MSG
mod_wsgi_lite demo on http://127.0.0.1:$port/  (Ctrl-C stops it)
  http://127.0.0.1:$port/             wsgiref's demo_app: the environ, sorted
                                   (every URL not listed below, e.g. /xxx?id=5)
  http://127.0.0.1:$port/hello        a function application
  http://127.0.0.1:$port/class        a class (__init__ + __iter__)
  http://127.0.0.1:$port/callable     an instance with __call__
  http://127.0.0.1:$port/x-server     a custom X-Server header
  http://127.0.0.1:$port/html         an HTML page
  http://127.0.0.1:$port/demo-source  demo_app written out by hand
Try:  curl -I 'http://127.0.0.1:$port/xxx?id=5'
      curl -X POST http://127.0.0.1:$port/yyy -d '{"x":2}'
Config: $conf
MSG

# Apache stops on SIGINT (Ctrl-C) and SIGTERM, restarts on SIGHUP.
exec "$httpd" -f "$conf" -DFOREGROUND
