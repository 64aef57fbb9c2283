#!/bin/sh
# scripts/valgrind.sh: `apache2 -X` (one process) with the module, under
# valgrind memcheck, serving t/htdocs apps to a short bounded mixed load
# (t/valgrind/load.py: hello, HEAD, POST bodies, streaming, write(),
# file_wrapper, error apps); then Apache is stopped (SIGTERM, by pid) and
# the valgrind log judged by t/valgrind/check.py: no invalid read, write or
# free anywhere, no memcheck error with a frame in this module, no
# "definitely lost" block allocated under this module.
#
#   scripts/valgrind.sh            (make valgrind)
#   VALGRIND_ROUNDS=25             rounds of the load (13 requests each)
#   WSL_MODULE_SO=...              the .so (default .libs/mod_wsgi_lite.so)
#
# Suppressions: only Debian's /usr/lib/valgrind/python3.supp (pymalloc's
# address_in_range reads); no suppression of our own is needed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
so=${WSL_MODULE_SO:-$top/.libs/mod_wsgi_lite.so}
rounds=${VALGRIND_ROUNDS:-25}
apxs=${APXS:-/usr/bin/apxs}
httpd=$($apxs -q SBINDIR)/$($apxs -q TARGET)
libexec=$($apxs -q LIBEXECDIR)
out=$top/build/valgrind
py=/usr/bin/python3

[ -f "$so" ] || { echo "valgrind.sh: $so not found (make)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind missing (make valgrind-deps)" >&2; exit 2; }

# Apache drops to User nobody: the apps and the config live in a
# world-readable temporary copy, not in the checkout.
run=$(mktemp -d "${TMPDIR:-/tmp}/wsl-valgrind.XXXXXX") || exit 2
chmod 755 "$run"
vpid=""
cleanup() {
    if [ -n "$vpid" ] && kill -0 "$vpid" 2>/dev/null; then
        kill -KILL "$vpid" 2>/dev/null
    fi
    rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp -r "$top/t/htdocs" "$top/t/pylib" "$run/" || exit 2
mkdir -p "$run/logs"
head -c 1048576 /dev/urandom >"$run/logs/wsl_blob.bin"
cp "$so" "$run/mod_wsgi_lite.so"
chmod -R a+rX "$run"
chown nobody "$run/logs"

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=nobody
group=$(id -gn nobody)
cat >"$run/httpd.conf" <<CONF
ServerRoot "$run"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$run/logs/httpd.pid"
ErrorLog "$run/logs/error_log"
LogLevel info
User $user
Group $group
LoadModule mpm_event_module "$libexec/mod_mpm_event.so"
LoadModule authz_core_module "$libexec/mod_authz_core.so"
LoadModule wsgi_lite_module "$run/mod_wsgi_lite.so"
DocumentRoot "$run/htdocs"
<Directory "$run/htdocs">
    Require all granted
</Directory>
Timeout 300
WSGIPythonPath "$run/pylib"
WSGIScriptAlias /hello "$run/htdocs/wsgi/hello.wsgi"
WSGIScriptAlias /echo_sha "$run/htdocs/wsgi/echo_sha.wsgi"
WSGIScriptAlias /input "$run/htdocs/wsgi/input.wsgi"
WSGIScriptAlias /gen "$run/htdocs/wsgi/gen.wsgi"
WSGIScriptAlias /write "$run/htdocs/wsgi/write.wsgi"
WSGIScriptAlias /filewrap "$run/htdocs/wsgi/filewrap.wsgi"
WSGIScriptAlias /raise "$run/htdocs/errors/raise.wsgi"
WSGIScriptAlias /header "$run/htdocs/errors/header.wsgi"
WSGIScriptAlias /environ "$run/htdocs/wsgi/environ.wsgi"
CONF

rm -rf "$out"
mkdir -p "$out"
supp=""
[ -f /usr/lib/valgrind/python3.supp ] && supp="--suppressions=/usr/lib/valgrind/python3.supp"
echo "valgrind.sh: $httpd -X on 127.0.0.1:$port under memcheck (log: $out/memcheck.log)"
start=$(date +%s)
env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --num-callers=50 --keep-debuginfo=yes \
    --fullpath-after= --track-origins=no \
    $supp \
    --gen-suppressions=all --log-file="$out/memcheck.log" \
    "$httpd" -X -f "$run/httpd.conf" &
vpid=$!

# Ready when it answers (Python's start-up under valgrind takes a while).
ready=no
for i in $(seq 1 240); do
    if $py -c "import http.client,sys
c=http.client.HTTPConnection('127.0.0.1',$port,timeout=60)
c.request('GET','/hello'); sys.exit(c.getresponse().status!=200)" 2>/dev/null; then
        ready=yes
        break
    fi
    kill -0 "$vpid" 2>/dev/null || break
    sleep 1
done
if [ "$ready" != yes ]; then
    echo "valgrind.sh: apache2 -X did not come up"
    tail -20 "$run/logs/error_log" "$out/memcheck.log"
    exit 1
fi
echo "valgrind.sh: up after $(( $(date +%s) - start ))s; load: $rounds rounds"
timeout 1800 $py "$top/t/valgrind/load.py" "$port" "$rounds"
load=$?

# Stop it by pid: the valgrind process is apache2 itself.
kill -TERM "$vpid"
for i in $(seq 1 180); do
    kill -0 "$vpid" 2>/dev/null || break
    sleep 1
done
if kill -0 "$vpid" 2>/dev/null; then
    echo "valgrind.sh: apache2 -X did not stop in 180s; killing it"
    kill -KILL "$vpid"
fi
wait "$vpid" 2>/dev/null
vpid=""
cp "$run/logs/error_log" "$out/error_log"
echo "valgrind.sh: total $(( $(date +%s) - start ))s"
$py "$top/t/valgrind/check.py" "$out/memcheck.log" "$top"
verdict=$?
[ "$load" -eq 0 ] || { echo "valgrind.sh: the load had failures"; exit 1; }
exit $verdict
