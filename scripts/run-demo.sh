#!/bin/sh
# Serve the demo (conf/demo.conf.in) on 127.0.0.1:$PORT (default 8000) with
# Apache in the foreground: Ctrl-C or SIGTERM stops it, SIGHUP restarts it.
# Called by `make run` after the module is built.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8000}
module=${WSL_MODULE_SO:-$top/.libs/mod_wsgi_lite.so}
httpd=${HTTPD:-/usr/sbin/apache2}

[ -f "$module" ] || { echo "run-demo: $module not built (run make)" >&2; exit 1; }
# One run directory per port, made afresh: Apache is exec'd below (so that
# Ctrl-C, SIGTERM and SIGHUP reach it directly) and cannot clean up after.
rundir=${TMPDIR:-/tmp}/wsl-demo-$port
rm -rf "$rundir"
mkdir -p "$rundir"
chmod 755 "$rundir"

# Apache drops root for www-data, which must be able to read the scripts:
# serve a copy when the checkout is not readable by others.
examples=$top/examples
user=""
if [ "$(id -u)" -eq 0 ]; then
    user="User www-data
Group www-data"
    if ! runuser -u www-data -- test -r "$examples/hello.wsgi" 2>/dev/null; then
        cp -r "$examples" "$rundir/examples"
        chmod -R a+rX "$rundir/examples"
        examples=$rundir/examples
    fi
fi

conf=$rundir/httpd.conf
USERLINES=$user awk -v rundir="$rundir" -v port="$port" -v module="$module" \
    -v examples="$examples" '
    { gsub(/@RUNDIR@/, rundir); gsub(/@PORT@/, port);
      gsub(/@MODULE@/, module); gsub(/@EXAMPLES@/, examples);
      if ($0 == "@USER@") $0 = ENVIRON["USERLINES"]; print }' \
    "$top/conf/demo.conf.in" >"$conf"

"$httpd" -t -f "$conf" >/dev/null 2>&1 || { "$httpd" -t -f "$conf"; exit 1; }

cat <<MSG
mod_wsgi_lite demo on http://127.0.0.1:$port/  (Ctrl-C stops it)
  /           wsgiref's demo_app: the environ, sorted
  /hello      function application
  /class      class application (__init__ + __iter__)
  /callable   instance with __call__
  /x-server   custom X-Server header
  /html       an HTML page
Try:  curl -I 'http://127.0.0.1:$port/xxx?id=5'
      curl -X POST http://127.0.0.1:$port/yyy -d '{"x":2}'
MSG

# Apache stops on SIGINT (Ctrl-C) and SIGTERM, restarts on SIGHUP.
exec "$httpd" -f "$conf" -DFOREGROUND
