#!/usr/bin/python3
"""bench/callgrind.py: instructions per hello request, counted by callgrind.

    bench/callgrind.py                       (make callgrind)
    bench/callgrind.py --so /path/to/mod_wsgi_lite.so --requests 200,1000
    bench/callgrind.py --mpm event --json out.json --keep /tmp/dumps
    bench/callgrind.py --daemon              (both sides of daemon mode)

`apache2 -X` (one process) runs under valgrind --tool=callgrind from a
small configuration of its own in a temporary directory (Debian's
/etc/apache2 is not read): the MPM, mod_authz_core and the module under
test (a copy of --so, default .libs/mod_wsgi_lite.so), serving
bench/apps/hello.wsgi at /hello, WSGIPythonHashSeed 0 so that dict layouts
repeat from run to run.  Only what connections cost is counted
(--toggle-collect=ap_run_process_connection: reading the requests, the
handler, the response, the log), not start-up or the idle MPM.

Each variant runs twice, in two servers: a warm-up connection (20 plain
and 20 browser requests: the script imported, the environ's caches
filled), then one keep-alive connection of N1 requests in the first run
and N2 in the second.  A figure per request is the difference of the two
runs over N2 - N1, so whatever a run costs once (the warm-up, the
connection, the shutdown) cancels out.

  plain     GET /hello with Host only
  browser   the same with the dozen request headers Firefox sends

Reported per request: every counted instruction ("total"), and inclusive
counts of wsl_handler (the module's content handler), wsl_snapshot_take
(the request's snapshot, when the module has one: it runs before the GIL
is taken), wsl_environ_build (the dict) and wsl_environ_add_handler_keys;
"environ" is the snapshot plus the dict.

--daemon: the same hello requests in daemon mode (WSGIDaemonProcess bench
processes=1 threads=16, WSGIProcessGroup bench), counted on both sides of
the socket: callgrind follows the fork of the daemon process (its own
dump, cg.<pid>.out), where what its poller and worker threads run is
counted (--toggle-collect of those thread functions: the requests, the
hand-off between the threads, the Python call; not the process's start
or its main thread's signal wait).  Reported per request for each side:
"apache" (ap_run_process_connection, as above: the client's side, the
request snapshot, the frames) and "daemon", with inclusive counts of
wsl_daemon_client_run (the Apache child's whole exchange with the daemon,
waiting aside), wsl_daemon_worker_serve (one request in the daemon, the
Python call included), wsl_call_run (the WSGI call) and
wsl_environ_build.  Callgrind counts instructions,
not time, so the figures do not depend on other load on the machine, and
a rerun gives the same figures to a few instructions.  Each Apache started
here is stopped by its pid; every wait is bounded (--timeout).
"""

import argparse
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
HTTPD = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"

FUNCTIONS = ("wsl_handler", "wsl_snapshot_take", "wsl_environ_build",
             "wsl_environ_add_handler_keys")
DAEMON_FUNCTIONS = ("wsl_daemon_client_run", "wsl_daemon_worker_serve",
                    "wsl_call_run", "wsl_environ_build")

# What Firefox sends for a page, give or take its cookie.
BROWSER_HEADERS = [
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
                   "Gecko/20100101 Firefox/128.0"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,"
               "*/*;q=0.8"),
    ("Accept-Language", "en-GB,en;q=0.7,fr;q=0.3"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
    ("Referer", "http://localhost/index.html"),
    ("Connection", "keep-alive"),
    ("Cookie", "sessionid=3f9a1c0b7d2e4f6a8b9c0d1e2f3a4b5c; csrftoken=Zx81"),
    ("Upgrade-Insecure-Requests", "1"),
    ("Sec-Fetch-Dest", "document"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-Site", "same-origin"),
    ("Sec-Fetch-User", "?1"),
    ("Priority", "u=0, i"),
]
VARIANTS = {"plain": [], "browser": BROWSER_HEADERS}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(run, port, so, mpm, daemon):
    conf = f"""ServerRoot "{run}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{run}/logs/httpd.pid"
ErrorLog "{run}/logs/error_log"
LogLevel warn
LoadModule mpm_{mpm}_module "{MODULES_DIR}/mod_mpm_{mpm}.so"
LoadModule authz_core_module "{MODULES_DIR}/mod_authz_core.so"
LoadModule wsgi_lite_module "{so}"
DocumentRoot "{run}/htdocs"
<Directory "{run}/htdocs">
    Require all granted
</Directory>
Timeout 300
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300
WSGIPythonHashSeed 0
WSGIScriptAlias /hello "{run}/htdocs/hello.wsgi"
"""
    if daemon:
        # As bench/run.py's daemon servers; home= because the process
        # runs as nobody (see one_run), whose home does not exist.
        conf += f"""WSGISocketPrefix "{run}/logs/wsgi"
WSGIDaemonProcess bench processes=1 threads=16 home={run}
WSGIProcessGroup bench
"""
    with open(os.path.join(run, "httpd.conf"), "w") as f:
        f.write(conf)


class Client:
    """One keep-alive connection sending GET /hello with fixed headers and
    checking each answer (status 200, the 12-byte body)."""

    def __init__(self, port, headers, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        lines = ["GET /hello HTTP/1.1", f"Host: localhost:{port}"]
        lines += [f"{k}: {v}" for k, v in headers]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.buf = b""

    def one(self):
        self.sock.sendall(self.request)
        while b"\r\n\r\n" not in self.buf:
            self.recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        if not status.startswith(b"HTTP/1.1 200") or not m:
            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
        length = int(m.group(1))
        while len(self.buf) < length:
            self.recv()
        body, self.buf = self.buf[:length], self.buf[length:]
        if body != b"Hello World!":
            raise RuntimeError(f"unexpected body: {body!r}")

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("connection closed by the server")
        self.buf += data

    def close(self):
        self.sock.close()


def send(port, headers, n, timeout):
    client = Client(port, headers, timeout)
    try:
        for _ in range(n):
            client.one()
    finally:
        client.close()


def read_dump(path, functions=FUNCTIONS):
    """Total instructions and the inclusive count of each of functions."""
    total = None
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--auto=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    # A function can be listed more than once, as "file:name" and
    # "???:name" (code with and without line information, after inlining):
    # the entry Apache calls includes the others, so the largest is the
    # function's inclusive count.
    incl = dict.fromkeys(functions, 0)
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?\S*?:?(\w+)(?:\s|$)",
                     line)
        if m and m.group(2) in incl:
            incl[m.group(2)] = max(incl[m.group(2)],
                                   int(m.group(1).replace(",", "")))
    return total, incl


def children_of(parent):
    kids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                    kids.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def wait_answers(port, timeout):
    """Until GET /hello answers 200 (a daemon process under valgrind takes
    a while to start Python; a request sent before gets a 503)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            send(port, [], 1, timeout)
            return
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def one_run(so, mpm, headers, n, timeout, keep=None, label=None,
            daemon=False):
    """Start apache2 -X under callgrind, warm up, send n requests with
    `headers` over one connection, stop it: (total, inclusive counts),
    or with daemon {"apache": (...), "daemon": (...)}.  With keep, the
    dumps are kept there as `label` (and `label`.daemon)."""
    run = tempfile.mkdtemp(prefix="wsl-callgrind.")
    os.chmod(run, 0o755)
    proc = None
    try:
        for d in ("htdocs", "logs", "out"):
            os.mkdir(os.path.join(run, d))
        shutil.copy(os.path.join(HERE, "apps", "hello.wsgi"),
                    os.path.join(run, "htdocs"))
        shutil.copy(so, os.path.join(run, "mod_wsgi_lite.so"))
        subprocess.run(["chmod", "-R", "a+rX", run], check=True)
        if os.geteuid() == 0:
            for d in ("logs", "out"):
                shutil.chown(os.path.join(run, d), user="nobody")
        out = os.path.join(run, "out")
        port = free_port()
        write_config(run, port, os.path.join(run, "mod_wsgi_lite.so"), mpm,
                     daemon)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        # As root, the whole process runs as nobody from the start (who
        # owns logs/ and out/): callgrind creates its output file when it
        # starts, so Apache's own switch to another user would leave it
        # unwritable.
        drop = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            drop = ["setpriv", f"--reuid={nobody.pw_uid}",
                    f"--regid={nobody.pw_gid}", "--clear-groups"]
        # Only what a connection costs is counted (reading its requests,
        # the handler, the response, the log): start-up and the idle MPM
        # are left out, and what the warm-up connection costs is the same
        # in every run, so it cancels out too.
        # In daemon mode the daemon process is a fork of this one, which
        # callgrind follows into a dump of its own (%p); there its poller
        # and worker threads are counted (see the top of the file).
        toggles = ["--toggle-collect=ap_run_process_connection"]
        if daemon:
            toggles += ["--toggle-collect=worker", "--toggle-collect=poller"]
        proc = subprocess.Popen(
            drop + ["valgrind", "--tool=callgrind", "--vgdb=no",
             f"--callgrind-out-file={out}/cg.%p.out"] + toggles +
            [HTTPD, "-X", "-f", os.path.join(run, "httpd.conf")],
            env=env, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(run, "logs", "valgrind.log"), "w"))
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), 5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.stderr.write(open(os.path.join(
                        run, "logs", "error_log")).read()[-2000:])
                    sys.exit("callgrind.py: apache2 -X did not come up")
                time.sleep(1)
        if daemon:
            wait_answers(port, timeout)
        send(port, [], 20, timeout)
        send(port, BROWSER_HEADERS, 20, timeout)
        send(port, headers, n, timeout)
        daemons = children_of(proc.pid)
        proc.terminate()
        proc.wait(timeout)
        # Apache stops its daemon process; its dump is written as it
        # exits.
        deadline = time.monotonic() + timeout
        while any(os.path.exists(f"/proc/{p}") for p in daemons):
            if time.monotonic() > deadline:
                sys.exit(f"callgrind.py: daemon process(es) {daemons} "
                         "still there after Apache stopped")
            time.sleep(0.5)
        dumps = {"apache": os.path.join(out, f"cg.{proc.pid}.out")}
        if daemon:
            found = [os.path.join(out, f"cg.{p}.out") for p in daemons]
            found = [d for d in found if os.path.exists(d)]
            if len(found) != 1:
                sys.exit(f"callgrind.py: {len(found)} daemon dumps in "
                         f"{out}, expected 1")
            dumps["daemon"] = found[0]
        if keep:
            os.makedirs(keep, exist_ok=True)
            for side, dump in dumps.items():
                dumps[side] = shutil.copy(dump, os.path.join(
                    keep, label + ("" if side == "apache" else ".daemon")))
        if not daemon:
            return read_dump(dumps["apache"])
        return {side: read_dump(dump, DAEMON_FUNCTIONS)
                for side, dump in dumps.items()}
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(run, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--so", default=os.path.join(TOP, ".libs",
                                                 "mod_wsgi_lite.so"))
    ap.add_argument("--mpm", default="prefork",
                    choices=("prefork", "event", "worker"))
    ap.add_argument("--requests", default="100,500",
                    help="N1,N2: the two batch sizes (default 100,500)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the callgrind dumps in DIR, for "
                         "callgrind_annotate (callgrind.VARIANT.N)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="bound on each wait, seconds (default 300)")
    ap.add_argument("--daemon", action="store_true",
                    help="daemon mode: count the Apache child's side and "
                         "the daemon process's")
    args = ap.parse_args()
    n1, n2 = (int(x) for x in args.requests.split(","))
    if not 0 < n1 < n2:
        ap.error("--requests needs 0 < N1 < N2")
    so = os.path.abspath(args.so)
    for tool, hint in ((so, "make"), (shutil.which("valgrind"),
                                      "make valgrind-deps")):
        if not tool or not os.path.exists(tool):
            sys.exit(f"callgrind.py: {tool or 'valgrind'} missing ({hint})")

    results = {"so": so, "mpm": args.mpm, "requests": [n1, n2],
               "variants": {}}
    if args.daemon:
        return main_daemon(args, so, n1, n2, results)
    for name, headers in VARIANTS.items():
        a = one_run(so, args.mpm, headers, n1, args.timeout, args.keep,
                    f"callgrind.{name}.{n1}")
        b = one_run(so, args.mpm, headers, n2, args.timeout, args.keep,
                    f"callgrind.{name}.{n2}")
        per = {"total": (b[0] - a[0]) / (n2 - n1)}
        for fn in FUNCTIONS:
            per[fn] = (b[1][fn] - a[1][fn]) / (n2 - n1)
        per["environ"] = per["wsl_environ_build"] + per["wsl_snapshot_take"]
        results["variants"][name] = per

    cols = ("total",) + FUNCTIONS + ("environ",)
    print(f"callgrind: instructions per request ({args.mpm}, "
          f"batches of {n1} and {n2}; {so})")
    print("| variant | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, per in results["variants"].items():
        print(f"| {name} | " + " | ".join(f"{per[c]:,.0f}" for c in cols)
              + " |")
    print("environ = wsl_environ_build + wsl_snapshot_take (inclusive; "
          "the snapshot is taken outside wsl_environ_build)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def main_daemon(args, so, n1, n2, results):
    results["mode"] = "daemon"
    for name, headers in VARIANTS.items():
        a = one_run(so, args.mpm, headers, n1, args.timeout, args.keep,
                    f"callgrind.daemon.{name}.{n1}", daemon=True)
        b = one_run(so, args.mpm, headers, n2, args.timeout, args.keep,
                    f"callgrind.daemon.{name}.{n2}", daemon=True)

        def per(side, fn=None):
            if fn is None:
                return (b[side][0] - a[side][0]) / (n2 - n1)
            return (b[side][1][fn] - a[side][1][fn]) / (n2 - n1)

        r = {"apache": per("apache"), "daemon": per("daemon"),
             "wsl_daemon_client_run": per("apache", "wsl_daemon_client_run"),
             "wsl_daemon_worker_serve": per("daemon",
                                            "wsl_daemon_worker_serve"),
             "wsl_call_run": per("daemon", "wsl_call_run"),
             "wsl_environ_build": per("daemon", "wsl_environ_build")}
        r["both"] = r["apache"] + r["daemon"]
        # The daemon's threads outside a request: the poller's wait and
        # queue, the worker's take and give back of the connection.
        r["daemon_outside_serve"] = r["daemon"] - r["wsl_daemon_worker_serve"]
        results["variants"][name] = r

    cols = ("both", "apache", "wsl_daemon_client_run", "daemon",
            "wsl_daemon_worker_serve", "wsl_call_run", "wsl_environ_build",
            "daemon_outside_serve")
    print(f"callgrind: instructions per request in daemon mode ({args.mpm}, "
          f"batches of {n1} and {n2}; {so})")
    print("| variant | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, r in results["variants"].items():
        print(f"| {name} | " + " | ".join(f"{r[c]:,.0f}" for c in cols)
              + " |")
    print("apache: the Apache process (ap_run_process_connection); daemon: "
          "the daemon process's poller and worker threads; "
          "daemon_outside_serve = daemon - wsl_daemon_worker_serve")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
