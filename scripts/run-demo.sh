#!/bin/sh
# Serve the demo (the seed tutorial's examples/) on 127.0.0.1:$PORT (default
# 8000) through the launcher, scripts/mod_wsgi_lite-express: Apache in the
# foreground with its error and access logs on the terminal; Ctrl-C or
# SIGTERM stops it, SIGUSR1 restarts it gracefully.  Called by `make run`
# once the module is built; can be run by hand as well.  Extra arguments go
# to the launcher (e.g. --reload-on-changes, --processes 2).
#
#   PORT=8080           another port
#   WSL_MODULE_SO=...   another build of the module
#   HTTPD=...           another httpd binary (default /usr/sbin/apache2)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8000}
httpd=${HTTPD:-${WSL_HTTPD:-/usr/sbin/apache2}}
express=$top/scripts/mod_wsgi_lite-express

case "$port" in
    ''|*[!0-9]*) echo "run-demo: PORT must be a number, not '$port'" >&2
                 exit 1 ;;
esac

# As root, Apache's children run as www-data, which must be able to read
# the scripts: serve a copy when the checkout is not readable by it (a
# home directory, say).  The copy goes in the server root, which the
# launcher rewrites each time.
examples=$top/examples
root=${TMPDIR:-/tmp}/mod_wsgi_lite-demo-$port:$(id -u)
if [ "$(id -u)" -eq 0 ]; then
    for f in "$examples"/*.wsgi; do
        if ! runuser -u www-data -- test -r "$f" 2>/dev/null; then
            mkdir -p "$root"
            rm -rf "$root/examples"
            cp -r "$examples" "$root/examples"
            chmod -R a+rX "$root/examples"
            examples=$root/examples
            echo "run-demo: $top is not readable by www-data; serving a" \
                 "copy of examples/ from $examples"
            break
        fi
    done
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
MSG

# The launcher checks everything (module built, scripts importable, port
# free) and then becomes Apache itself.
exec /usr/bin/python3 "$express" start-server \
    --host 127.0.0.1 --port "$port" --server-root "$root" --httpd "$httpd" \
    --application-group '%{RESOURCE}' --log-to-terminal --access-log \
    --log-level 'warn wsgi_lite:info' \
    --mount /hello "$examples/hello.wsgi" \
    --mount /class "$examples/hello_class.wsgi" \
    --mount /callable "$examples/hello_callable.wsgi" \
    --mount /x-server "$examples/x_server.wsgi" \
    --mount /html "$examples/html.wsgi" \
    --mount /demo-source "$examples/demo_app_source.wsgi" \
    "$@" "$examples/demo_app.wsgi"
