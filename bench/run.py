#!/usr/bin/python3
"""bench/run.py: mod_wsgi_lite against Apache's own static path and mod_wsgi.

For each MPM (event: 1 process x 32 threads; prefork: 32 processes, all
started up front), up to five Apache servers run side by side, each from a
private configuration generated in a temporary directory (Debian's
/etc/apache2 is not read, the system Apache is left alone):

  static           Apache serving the same bytes as files (the limit)
  mod_wsgi         Debian's libapache2-mod-wsgi-py3, embedded, %{GLOBAL}
                   (if there)
  lite             this checkout's .libs/mod_wsgi_lite.so, %{GLOBAL}
  mod_wsgi-daemon  Debian's mod_wsgi in daemon mode: WSGIDaemonProcess
                   bench processes=1 threads=16, WSGIProcessGroup bench
  lite-daemon      this checkout's module with exactly the same lines

The daemon processes are children of the Apache parent, as Apache's own
children are, in both modules: the CPU, writes and RSS below count them.

Every scenario is first checked on every server (status 200, exact length
and sha256 of the body), so a broken server cannot look fast.  Then wrk
(-t1, a fixed number of connections, a bounded duration) loads each server
in turn, interleaved, several times; around each wrk run the server's CPU
time (user+system of the parent and every child: the threads' schedstat in
ns, checked against utime+stime of /proc/<pid>/stat, which it falls back
to) and its writes (/proc/<pid>/io: system calls, bytes) are read.  Reported: medians
with their spread of req/s or MiB/s, p50/p99 latency, server CPU per request
or per MiB, writes per request, the children's RSS after warm-up and its
growth over 20,000 requests, the ratios lite/static and lite/mod_wsgi (and
lite-daemon/mod_wsgi-daemon and lite-daemon/lite when those ran), and the
bars of issues 4 and 16 (daemon mode) with pass/fail.

Output: Markdown on stdout and in bench/results/<date>.md, the raw numbers
in bench/results/<date>.json.  Python 3 standard library only; run with
Debian's /usr/bin/python3 (`make bench` does).  Every wrk run and every wait
is bounded; each Apache started here is stopped by its pid on exit, Ctrl-C
or SIGTERM included.

  bench/run.py                      full run (both MPMs, all servers)
  bench/run.py --quick              smoke run: 1 s per run, 1 run
  bench/run.py --mpm event --only hello,env --servers static,lite
"""

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")

HTTPD = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
MOD_WSGI_SO = os.path.join(MODULES_DIR, "mod_wsgi.so")
LITE_SO = os.path.join(TOP, ".libs", "mod_wsgi_lite.so")

SERVERS = ("static", "mod_wsgi", "lite", "mod_wsgi-daemon", "lite-daemon")
# The daemon-mode servers: the module of the same name, and these lines.
DAEMON_SERVERS = {"mod_wsgi-daemon": "mod_wsgi", "lite-daemon": "lite"}
DAEMON_GROUP = "bench"
DAEMON_PROCESSES = 1
DAEMON_THREADS = 16
MPMS = ("event", "prefork")
PREFORK_PROCESSES = 32
EVENT_THREADS = 32


# --------------------------------------------------------------------------
# Scenarios and the bytes they serve
# --------------------------------------------------------------------------

class Scenario:
    """One URL, served by every server: a WSGI app in bench/apps/<name>.wsgi
    and a static file with the same bytes (htdocs/<static>).

    unit "req": CPU per request and req/s; unit "MiB": CPU per MiB of body
    (the response's, or the request's for a POST) and MiB/s."""

    def __init__(self, name, static, unit, what, method="GET",
                 request_body=None, close=False):
        self.name = name
        self.static = static
        self.unit = unit
        self.what = what
        self.method = method
        self.request_body = request_body
        self.close = close

    @property
    def url(self):
        # hello_close is hello with "Connection: close": same URL.
        return "/hello" if self.name == "hello_close" else "/" + self.name

    @property
    def app(self):
        return "hello" if self.name == "hello_close" else self.name


SCENARIOS = [
    Scenario("hello", "hello.txt", "req", "12-byte body"),
    Scenario("hello_close", "hello.txt", "req",
             "12-byte body, Connection: close", close=True),
    Scenario("env", "env.txt", "req", "reads 10 environ keys, 1 KiB body"),
    Scenario("body1m", "body1m.bin", "MiB", "1 MiB body, one bytes object"),
    Scenario("stream10m", "stream10m.bin", "MiB",
             "10 MiB as 160 x 64 KiB generator chunks"),
    Scenario("chunks", "chunks.bin", "req",
             "generator of 1,000 x 100-byte chunks"),
    Scenario("filewrapper", "big100m.bin", "MiB",
             "wsgi.file_wrapper of a 100 MiB file"),
    # The static twin of a WSGI app reading a POST body: Apache's default
    # handler, which (for GET and POST alike) first discards the request
    # body with ap_discard_request_body(), reading it through the same
    # input filters a WSGI module reads it through, and then sends the
    # file: a POST to hello.txt reads and drops the 1 MiB, then answers
    # the same 12 bytes as the app.  A CGI script or a proxy would add a
    # fork or a second hop, and a handler that refuses the POST (405)
    # without reading the body would measure nothing.
    Scenario("post1m", "hello.txt", "MiB", "1 MiB POST body read fully",
             method="POST", request_body="body1m.bin"),
]
SCENARIO_NAMES = [s.name for s in SCENARIOS] + ["rss"]


def numbered_lines(size):
    """size bytes of 16-byte lines "%015x\\n" numbered from 0: every offset
    holds different bytes, so a misplaced or repeated piece changes the
    sha256."""
    assert size % 16 == 0
    return b"".join(b"%015x\n" % i for i in range(size // 16))


def write_htdocs(htdocs, need_big):
    """The static files, which the apps also read their bytes from."""
    os.makedirs(htdocs)
    one_mib = numbered_lines(MIB)
    files = {
        "hello.txt": b"Hello World!",
        "env.txt": numbered_lines(1024),
        "body1m.bin": one_mib,
        "stream10m.bin": one_mib * 10,
        "chunks.bin": numbered_lines(100000),
    }
    for name, data in files.items():
        with open(os.path.join(htdocs, name), "wb") as f:
            f.write(data)
    big = os.path.join(htdocs, "big100m.bin")
    with open(big, "wb") as f:
        # Written a MiB at a time.  Left empty when the file wrapper
        # scenario is not run (its app is mounted all the same).
        if need_big:
            for block in range(100):
                base = block * MIB // 16
                f.write(b"".join(b"%015x\n" % (base + i)
                                 for i in range(MIB // 16)))


def expected_digest(htdocs, name):
    h = hashlib.sha256()
    size = 0
    with open(os.path.join(htdocs, name), "rb") as f:
        while True:
            block = f.read(MIB)
            if not block:
                break
            size += len(block)
            h.update(block)
    return size, h.hexdigest()


# --------------------------------------------------------------------------
# Apache: configuration, start, stop, and what /proc says about it
# --------------------------------------------------------------------------

def compiled_in_modules(httpd):
    out = subprocess.run([httpd, "-l"], capture_output=True, text=True,
                         timeout=30).stdout
    return {line.strip() for line in out.splitlines()
            if line.strip().endswith(".c")}


def load_module_lines(httpd, mpm):
    """LoadModule lines for the modules every server needs, skipping those
    compiled into this httpd (Debian builds in unixd and log_config)."""
    builtin = compiled_in_modules(httpd)
    wanted = [("mpm_" + mpm, "mod_mpm_%s.so" % mpm),
              ("authz_core", "mod_authz_core.so"),
              ("mime", "mod_mime.so"),
              ("alias", "mod_alias.so"),
              ("unixd", "mod_unixd.so"),
              ("log_config", "mod_log_config.so")]
    lines = []
    for name, so in wanted:
        if "mod_%s.c" % name in builtin:
            continue
        lines.append('LoadModule %s_module "%s"'
                     % (name, os.path.join(MODULES_DIR, so)))
    return lines


def mpm_config(mpm, processes=PREFORK_PROCESSES):
    """The MPM's lines: event, one process of EVENT_THREADS threads;
    prefork, `processes` processes (PREFORK_PROCESSES unless told)."""
    if mpm == "event":
        # One process with 32 threads: the whole server is one child, so
        # its RSS and CPU are those of one Python interpreter.
        return """\
StartServers 1
ServerLimit 1
ThreadLimit {threads}
ThreadsPerChild {threads}
MinSpareThreads 1
MaxSpareThreads {threads}
MaxRequestWorkers {threads}
MaxConnectionsPerChild 0""".format(threads=EVENT_THREADS)
    # All processes started up front and none ever stopped or spawned
    # during a run, so no fork is timed: MaxSpareServers = all of them (no
    # idle one is stopped), MinSpareServers 1 (one more would be spawned
    # only if all 32 were busy, which -c 8 never makes them; a higher
    # value only makes prefork log AH00161 whenever a child is busy).
    return """\
StartServers {n}
ServerLimit {n}
MinSpareServers 1
MaxSpareServers {n}
MaxRequestWorkers {n}
MaxConnectionsPerChild 0""".format(n=processes)


def config_head(kind, mpm, rundir, port, args, module,
                processes=PREFORK_PROCESSES, keepalive=True,
                by="bench/run.py"):
    """(the server's directory, the lines of its configuration up to its
    applications): where it runs, its modules (module: "mod_wsgi", "lite"
    or None), logs, connection settings, MPM and directories."""
    sdir = os.path.join(rundir, kind + "-" + mpm)
    htdocs = os.path.join(rundir, "htdocs")
    apps = os.path.join(rundir, "apps")
    lines = [
        "# Generated by %s: %s under the %s MPM." % (by, kind, mpm),
        'ServerRoot "%s"' % sdir,
        'DefaultRuntimeDir "%s"' % sdir,
        'PidFile "%s/httpd.pid"' % sdir,
        "ServerName 127.0.0.1",
        "Listen 127.0.0.1:%d" % port,
    ]
    if os.geteuid() == 0:
        lines += ["User www-data", "Group www-data"]
    lines += load_module_lines(args.httpd, mpm)
    if module == "mod_wsgi":
        lines.append('LoadModule wsgi_module "%s"' % args.mod_wsgi)
    elif module == "lite":
        lines.append('LoadModule wsgi_lite_module "%s"' % args.module)
    lines += [
        'ErrorLog "%s/error_log"' % sdir,
        "LogLevel warn",
        # No access log: its write per request is the same for every
        # server and would only dilute the differences.
        "TypesConfig /etc/mime.types",
        "KeepAlive %s" % ("On" if keepalive else "Off"),
        # Unlimited requests per connection: a reconnect every 100
        # requests would add connection set-up to the request cost (the
        # hello_close scenario measures that on purpose).
        "MaxKeepAliveRequests 0",
        "KeepAliveTimeout 15",
        "Timeout 60",
        "EnableSendfile On",
        "EnableMMAP Off",
        mpm_config(mpm, processes),
        'DocumentRoot "%s"' % htdocs,
        "<Directory />",
        "    AllowOverride None",
        "    Require all denied",
        "</Directory>",
        '<Directory "%s">' % htdocs,
        "    Require all granted",
        "</Directory>",
        '<Directory "%s">' % apps,
        "    Require all granted",
        "</Directory>",
    ]
    return sdir, lines


def script_lines(apps, names, alias_options="", preload=None):
    """WSGIScriptAlias /pid and /NAME for each of names (apps/NAME.wsgi),
    each with alias_options; with preload (an application group), each
    app is also loaded into that group as every child starts
    (WSGIImportScript)."""
    suffix = " " + alias_options if alias_options else ""
    # /pid: which process runs the apps (check_where).
    lines = ['WSGIScriptAlias /pid "%s"%s'
             % (os.path.join(apps, "pid.wsgi"), suffix)]
    for app in names:
        script = os.path.join(apps, app + ".wsgi")
        lines.append('WSGIScriptAlias /%s "%s"%s' % (app, script, suffix))
        # Loaded when each child starts (all 32 under prefork), so no
        # timed request pays for an import.
        if preload:
            lines.append('WSGIImportScript "%s" '
                         "process-group=%%{GLOBAL} "
                         "application-group=%s" % (script, preload))
    return lines


def write_config(sdir, lines):
    """(sdir, the path of the httpd.conf written there)."""
    os.makedirs(sdir)
    conf = os.path.join(sdir, "httpd.conf")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return sdir, conf


def server_config(kind, mpm, rundir, port, args):
    sdir, lines = config_head(kind, mpm, rundir, port, args,
                              DAEMON_SERVERS.get(kind, kind))
    htdocs = os.path.join(rundir, "htdocs")
    apps = os.path.join(rundir, "apps")
    apps_used = sorted({s.app for s in SCENARIOS})
    if kind == "static":
        for s in SCENARIOS:
            if s.name != "hello_close":
                lines.append('Alias %s "%s/%s"' % (s.url, htdocs, s.static))
    else:
        # Daemon mode: one process of 16 threads, the usual production
        # shape, the same lines for both modules.  The sockets go in this
        # server's own directory, never in the system's run directory.
        if kind in DAEMON_SERVERS:
            lines.append('WSGISocketPrefix "%s/wsgi"' % sdir)
            # display-name: how run.py tells the daemon processes from
            # Apache's children (both modules write it over argv[0]).
            lines.append("WSGIDaemonProcess %s processes=%d threads=%d "
                         "display-name=%%{GROUP}"
                         % (DAEMON_GROUP, DAEMON_PROCESSES, DAEMON_THREADS))
            lines.append("WSGIProcessGroup %s" % DAEMON_GROUP)
        lines.append("WSGIApplicationGroup %{GLOBAL}")
        # wsgi.file_wrapper goes out by sendfile() only under this, in
        # mod_wsgi and in mod_wsgi_lite alike (EnableSendfile is for the
        # files Apache opens itself): the filewrapper scenario compares
        # the sendfile paths.
        lines.append("WSGIEnableSendfile On")
        # The apps are preloaded into each child, except in daemon mode:
        # there one process runs the apps, and the check of every scenario
        # before the warm-up imports each there (mod_wsgi_lite does not
        # take process-group=<daemon group> on WSGIImportScript yet, and
        # the two servers must have the same lines).
        lines += script_lines(apps, apps_used,
                              preload=None if kind in DAEMON_SERVERS
                              else "%{GLOBAL}")
    return write_config(sdir, lines)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_stat(pid):
    """(ppid, cpu ticks of the process itself, ticks of reaped children)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
    return (int(fields[1]), int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]))


def children_of(parent):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if read_stat(int(entry))[0] == parent:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass  # gone meanwhile
    return sorted(kids)


def read_sched(pid):
    """(on-CPU time in ns, times scheduled onto a CPU) of all threads of a
    process, from /proc/<pid>/task/*/schedstat; None if unavailable.
    /proc/<pid>/stat gives the same time in clock ticks (10 ms), truncated
    per process: +-10 ms per process and run, which for 32 prefork
    children or a sendfile run that costs the server 0.3 s of CPU is
    several per cent.  The count is how often a thread was put on a CPU:
    each one a context switch in, the cost the event MPM's hand-offs
    between its listener and worker threads add to a request."""
    ns = slices = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                fields = f.read().split()
            ns += int(fields[0])
            slices += int(fields[2])
    except (OSError, ValueError, IndexError):
        return None
    return ns, slices


def read_io(pid):
    """(write system calls, bytes written) of a whole process (all its
    threads), from /proc/<pid>/io; sendfile counts as a write of the bytes
    it sent.  None where the file cannot be read (not root, not ours)."""
    counts = {}
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                counts[key] = int(value)
    except (OSError, ValueError):
        return None
    if "syscw" not in counts or "wchar" not in counts:
        return None
    return counts["syscw"], counts["wchar"]


def read_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Server:
    """One Apache (kind x MPM) in the foreground, stopped by its pid.
    config(kind, mpm, rundir, port, args) writes its configuration and
    returns (its directory, its httpd.conf); processes: how many Apache
    children it runs (default: 1 under event, PREFORK_PROCESSES under
    prefork)."""

    def __init__(self, kind, mpm, rundir, args, config=server_config,
                 processes=None):
        self.kind = kind
        self.mpm = mpm
        self.port = free_port()
        self.dir, self.conf = config(kind, mpm, rundir, self.port, args)
        self.httpd = args.httpd
        self.pin = args.server_cpus
        self.proc = None
        self.known_children = set()
        self.daemon_pid_list = []
        # The daemon processes are the parent's children too (both
        # modules fork them from the parent), so they are waited for,
        # and counted, with Apache's own.
        if processes is None:
            processes = PREFORK_PROCESSES if mpm == "prefork" else 1
        self.expected_children = (
            processes + (DAEMON_PROCESSES if kind in DAEMON_SERVERS else 0))

    def start(self):
        check = subprocess.run([self.httpd, "-t", "-f", self.conf],
                               capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise RuntimeError("%s: configuration test failed:\n%s%s"
                               % (self.conf, check.stdout, check.stderr))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PYTHON")}
        env["LANG"] = "C.UTF-8"
        out = open(os.path.join(self.dir, "stdout"), "wb")
        # A session of its own: Ctrl-C in the terminal reaches run.py,
        # which stops the server itself (and so knows it is stopped).
        self.proc = subprocess.Popen(
            pinned(self.pin, [self.httpd, "-f", self.conf, "-DFOREGROUND"]),
            env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        out.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s %s exited at start (status %s); see "
                                   "%s/error_log and %s/stdout"
                                   % (self.kind, self.mpm,
                                      self.proc.returncode, self.dir,
                                      self.dir))
            kids = children_of(self.proc.pid)
            self.known_children.update(kids)
            if len(kids) >= self.expected_children and self.answers():
                self.wait_idle(deadline)
                self.check_daemons()
                return
            time.sleep(0.2)
        raise RuntimeError("%s %s not ready after 60 s (children: %d)"
                           % (self.kind, self.mpm,
                              len(children_of(self.proc.pid))))

    def wait_idle(self, deadline):
        """Until the server uses (almost) no CPU for half a second: its
        children have finished starting (Python and the WSGIImportScript
        imports: 32 of them under prefork take seconds), so none is still
        busy starting when the load begins."""
        last = self.snapshot()["cpu"]
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.snapshot()["cpu"]
            if now - last <= 0.02:
                return
            last = now
        raise RuntimeError("%s %s still busy starting after 60 s"
                           % (self.kind, self.mpm))

    def check_daemons(self):
        """A daemon server's daemon processes are there, children of the
        parent: else their CPU would be missing from the figures, and
        their writes counted as the client's."""
        if self.kind not in DAEMON_SERVERS:
            return
        found = self.daemon_pids()
        if len(found) != DAEMON_PROCESSES:
            raise RuntimeError(
                "%s %s: %d daemon process(es) among the parent's children "
                "(%s), expected %d; see %s/error_log" % (
                    self.kind, self.mpm, len(found),
                    ", ".join(str(p) for p in self.children()),
                    DAEMON_PROCESSES, self.dir))
        self.daemon_pid_list = found

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1):
                return True
        except OSError:
            return False

    def children(self):
        kids = children_of(self.proc.pid)
        self.known_children.update(kids)
        return kids

    def snapshot(self):
        """Server CPU seconds and writes so far, over the parent and all
        children, the daemon processes included.  "cpu_stat": utime+stime
        from /proc/<pid>/stat; a child reaped by the parent leaves its CPU
        in the parent's cutime/cstime, so that sum never goes backwards.
        "cpu": the same time from schedstat in ns when every process has
        it (see read_sched), else cpu_stat; "switches": the times its
        threads were scheduled in (None without schedstat).  "daemon_*":
        the daemon processes' part of cpu and writes.  "client_written":
        the bytes Apache's own processes wrote, without the daemons' (a
        daemon's response goes over its socket to an Apache child, which
        writes it again to the client: counting both would halve CPU per
        MiB).  A run where the children changed is reported."""
        ppid_, own, reaped = read_stat(self.proc.pid)
        ticks = own + reaped
        io = read_io(self.proc.pid)
        sched = read_sched(self.proc.pid)
        client_io = io
        daemon_cpu = 0.0
        daemon_io = (0, 0)
        kids = self.children()
        daemons = set(self.daemon_pids(kids))
        for kid in kids:
            kid_ticks = 0
            try:
                kid_ticks = read_stat(kid)[1]
            except (OSError, IndexError, ValueError):
                pass
            ticks += kid_ticks
            kid_io = read_io(kid)
            io = (None if io is None or kid_io is None
                  else (io[0] + kid_io[0], io[1] + kid_io[1]))
            kid_sched = read_sched(kid)
            sched = (None if sched is None or kid_sched is None
                     else (sched[0] + kid_sched[0], sched[1] + kid_sched[1]))
            if kid in daemons:
                daemon_cpu += (kid_sched[0] / 1e9 if kid_sched
                               else kid_ticks / CLK_TCK)
                daemon_io = (None if daemon_io is None or kid_io is None
                             else (daemon_io[0] + kid_io[0],
                                   daemon_io[1] + kid_io[1]))
            else:
                client_io = (None if client_io is None or kid_io is None
                             else (client_io[0] + kid_io[0],
                                   client_io[1] + kid_io[1]))
        return {"cpu_stat": ticks / CLK_TCK,
                "cpu": sched[0] / 1e9 if sched else ticks / CLK_TCK,
                "cpu_source": "schedstat" if sched else "stat",
                "switches": sched[1] if sched else None,
                "writes": None if io is None else io[0],
                "written": None if io is None else io[1],
                "client_written": None if client_io is None
                else client_io[1],
                "daemon_cpu": daemon_cpu,
                "daemon_writes": None if daemon_io is None
                else daemon_io[0],
                "children": tuple(kids),
                "daemons": len(daemons)}

    def daemon_pids(self, kids=None):
        """The children that are daemon processes (display-name shows
        "(wsgi:GROUP)" in their command line: see server_config)."""
        if self.kind not in DAEMON_SERVERS:
            return []
        return [pid for pid in (self.children() if kids is None else kids)
                if command_line(pid).startswith(b"(wsgi:")]

    def rss_kib(self):
        """RSS of each child (KiB), by pid."""
        return {kid: read_rss_kib(kid) for kid in self.children()}

    def error_log_lines(self):
        try:
            with open(os.path.join(self.dir, "error_log"),
                      errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def stop(self):
        """SIGTERM to the parent (which stops its children), SIGKILL to
        the parent and every child seen if it is still there after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.known_children.update(children_of(self.proc.pid))
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in [self.proc.pid] + sorted(self.known_children):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait(timeout=15)
        # Children finish with the parent; give any straggler a moment.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = [p for p in self.known_children if pid_is_ours(p)]
            if not alive:
                break
            time.sleep(0.1)
        else:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def pid_is_ours(pid):
    """A pid that still runs and was a child of a server of ours (it is
    then either still one or reparented to init; its command is httpd, or
    a daemon process's display-name)."""
    argv0 = command_line(pid).split(b"\0")[0]
    return (os.path.basename(argv0) in (b"apache2", b"httpd")
            or argv0.startswith(b"(wsgi:"))


# --------------------------------------------------------------------------
# Correctness and load
# --------------------------------------------------------------------------

def check_scenario(server, scenario, htdocs):
    """Status 200 and the exact bytes of the static twin, or an error."""
    size, digest = expected_digest(htdocs, scenario.static)
    body = None
    headers = {"Connection": "close"} if scenario.close else {}
    if scenario.request_body:
        with open(os.path.join(htdocs, scenario.request_body), "rb") as f:
            body = f.read()
        headers["Content-Type"] = "application/octet-stream"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    h = hashlib.sha256()
    got = 0
    try:
        conn.request(scenario.method, scenario.url, body=body,
                     headers=headers)
        resp = conn.getresponse()
        while True:
            block = resp.read(MIB)
            if not block:
                break
            got += len(block)
            h.update(block)
    except (OSError, http.client.HTTPException) as e:
        # A daemon that dies mid-response gives a truncated one.
        return "%s after %d bytes of the body: %r" % (type(e).__name__,
                                                       got, e)
    finally:
        conn.close()
    if resp.status != 200:
        return "status %d" % resp.status
    if got != size or h.hexdigest() != digest:
        return "body of %d bytes (sha256 %s), expected %d bytes (%s)" % (
            got, h.hexdigest()[:12], size, digest[:12])
    return None


def check_where(server):
    """None if the WSGI apps of a server run where its kind says: in its
    daemon process (daemon mode), in an Apache child (embedded); else
    what is wrong."""
    if server.kind == "static" or server.kind.startswith("static-"):
        return None
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", "/pid")
        resp = conn.getresponse()
        text = resp.read().decode("ascii", "replace")
    except (OSError, http.client.HTTPException) as e:
        return "/pid: %s: %r" % (type(e).__name__, e)
    finally:
        conn.close()
    if resp.status != 200 or not text.isdigit():
        return "/pid: status %d, %r" % (resp.status, text[:100])
    pid = int(text)
    daemons = server.daemon_pids()
    if server.kind in DAEMON_SERVERS:
        if pid not in daemons:
            return ("the apps ran in pid %d, not in the daemon process "
                    "(%s)" % (pid, ", ".join(map(str, daemons)) or "none"))
    elif pid not in server.children():
        return "the apps ran in pid %d, not in an Apache child" % pid
    return None


LUA_DONE = r"""
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WSLBENCH {"requests": %d, "bytes": %d, "duration_us": %d, ' ..
        '"err_connect": %d, "err_read": %d, "err_write": %d, ' ..
        '"err_status": %d, "err_timeout": %d, ' ..
        '"p50_us": %.1f, "p99_us": %.1f}\n',
        summary.requests, summary.bytes, summary.duration,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50.0), latency:percentile(99.0)))
end
"""


def write_lua(rundir, scenario, htdocs):
    """wrk's script for one scenario: the request, and a done() that prints
    the exact counts (wrk's own summary rounds them)."""
    parts = []
    if scenario.request_body:
        path = os.path.join(htdocs, scenario.request_body)
        parts.append('local f = assert(io.open("%s", "rb"))\n'
                     'wrk.body = f:read("*a")\nf:close()\n' % path)
        parts.append('wrk.method = "%s"\n' % scenario.method)
        parts.append('wrk.headers["Content-Type"] = '
                     '"application/octet-stream"\n')
    if scenario.close:
        parts.append('wrk.headers["Connection"] = "close"\n')
    parts.append(LUA_DONE)
    name = scenario.name + ".lua"
    path = os.path.join(rundir, name)
    with open(path, "w") as f:
        f.write("".join(parts))
    return path


def pinned(cpus, cmd):
    """cmd run on the given CPUs only (taskset execs it: the pid is the
    command's own), or as it is when cpus is None."""
    return cmd if cpus is None else ["taskset", "-c", cpus] + cmd


def run_wrk(server, scenario, lua, duration, connections, wrk_cpus):
    url = "http://127.0.0.1:%d%s" % (server.port, scenario.url)
    cmd = pinned(wrk_cpus, ["wrk", "-t1", "-c%d" % connections,
                            "-d%ds" % duration, "--timeout", "30s",
                            "--latency", "-s", lua, url])
    before = server.snapshot()
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=duration + 60)
    # Let the server finish what wrk left in flight before reading /proc.
    time.sleep(0.2)
    after = server.snapshot()
    stats = None
    for line in out.stdout.splitlines():
        if line.startswith("WSLBENCH "):
            stats = json.loads(line[len("WSLBENCH "):])
    if out.returncode != 0 or stats is None:
        raise RuntimeError("wrk failed (%s): %s%s" % (
            " ".join(cmd), out.stdout[-2000:], out.stderr[-2000:]))
    stats["cpu_s"] = after["cpu"] - before["cpu"]
    stats["cpu_stat_s"] = after["cpu_stat"] - before["cpu_stat"]
    stats["cpu_source"] = after["cpu_source"]
    stats["daemon_cpu_s"] = after["daemon_cpu"] - before["daemon_cpu"]
    stats["daemons"] = after["daemons"]
    for key in ("writes", "written", "switches", "client_written",
                "daemon_writes"):
        stats[key] = (after[key] - before[key]
                      if before[key] is not None and after[key] is not None
                      else None)
    stats["children_changed"] = before["children"] != after["children"]
    return stats


def measure(server, scenario, lua, duration, connections, htdocs, wrk_cpus):
    """One timed wrk run, reduced to the figures the tables show."""
    s = run_wrk(server, scenario, lua, duration, connections, wrk_cpus)
    seconds = s["duration_us"] / 1e6
    n = s["requests"]
    # With no request complete (a 100 MiB response in a 1 s --quick run)
    # wrk's percentiles are 0: no latency then, not "0 ms".
    r = {"requests": n, "seconds": seconds, "cpu_s": s["cpu_s"],
         "cpu_stat_s": s["cpu_stat_s"], "cpu_source": s["cpu_source"],
         "p50_us": s["p50_us"] if n else None,
         "p99_us": s["p99_us"] if n else None,
         "errors": {k[4:]: s[k] for k in s if k.startswith("err_")},
         "children_changed": s["children_changed"]}
    if scenario.unit == "MiB":
        if scenario.request_body:
            size = os.path.getsize(os.path.join(htdocs,
                                                scenario.request_body))
            mib = n * size / MIB
            cpu_mib = mib
        else:
            # Throughput: what wrk read.  CPU per MiB: what the server
            # wrote, which is what it spent the CPU on: when wrk stops, up
            # to several MiB per connection are still in the socket
            # buffers, written but never read (some % of a 5 s run).
            # In daemon mode only what Apache's processes wrote (the
            # daemons' writes to their sockets are the same bytes once
            # more; the requests Apache sends them, a few KiB each, stay
            # in: under 0.5% of a MiB).
            mib = s["bytes"] / MIB
            cpu_mib = (s["client_written"] / MIB if s["client_written"]
                       else mib)
        r["mib"] = mib
        r["cpu_mib"] = cpu_mib
        r["rate"] = mib / seconds
        per = cpu_mib
    else:
        r["rate"] = n / seconds
        per = n
    r["cpu_per"] = s["cpu_s"] * 1e6 / per if per else None
    # The daemon processes' part of it (0 for the embedded servers).
    r["daemon_cpu_per"] = (s["daemon_cpu_s"] * 1e6 / per
                           if per and server.kind in DAEMON_SERVERS
                           else None)
    r["daemon_writes_per_req"] = (
        s["daemon_writes"] / n if n and s["daemon_writes"] is not None
        and server.kind in DAEMON_SERVERS else None)
    r["writes_per_req"] = (s["writes"] / n if n and s["writes"] is not None
                           else None)
    r["switches_per_req"] = (s["switches"] / n
                             if n and s["switches"] is not None else None)
    return r


# --------------------------------------------------------------------------
# Numbers into tables
# --------------------------------------------------------------------------

def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    med = statistics.median(values)
    spread = (max(values) - min(values)) / med * 100 if med else 0.0
    return {"median": med, "min": min(values), "max": max(values),
            "spread_pct": spread, "n": len(values)}


def fmt_num(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_stat(st):
    if not st:
        return "-"
    if st["n"] < 2:
        return fmt_num(st["median"])
    return "%s ±%.0f%%" % (fmt_num(st["median"]), st["spread_pct"] / 2)


def fmt_ms(us):
    return "-" if us is None else "%.2f" % (us / 1000.0)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "-" if x is None else "%.2fx" % x


def med(agg, server, scenario, key):
    st = agg.get(server, {}).get(scenario, {}).get(key)
    return st["median"] if st else None


def evaluate_bars(mpm, agg, rss):
    """The bars of issue 4 that this MPM's numbers decide, as (bar,
    measured, verdict) with verdict PASS, FAIL or n/a (mod_wsgi not run).
    Bars of scenarios that were not run are left out."""
    bars = []
    ran = agg.get("lite", {})

    def add(scenario, text, value, limit, at_least=False, below=False,
            shown=None):
        if scenario not in ran and not (scenario == "rss" and rss):
            return
        if value is None:
            bars.append((text, "-", "n/a"))
            return
        if at_least:
            ok = value >= limit
        elif below:
            ok = value < limit
        else:
            ok = value <= limit
        bars.append((text, shown or fmt_ratio(value),
                     "PASS" if ok else "FAIL"))

    def cpu_ratio(scenario, other):
        return ratio(med(agg, "lite", scenario, "cpu_per"),
                     med(agg, other, scenario, "cpu_per"))

    add("hello", "hello: CPU/req <= 1.25x static",
        cpu_ratio("hello", "static"), 1.25)
    add("hello", "hello: CPU/req <= 0.5x mod_wsgi",
        cpu_ratio("hello", "mod_wsgi"), 0.5)
    if mpm == "event":
        add("hello", "hello: req/s >= 2x mod_wsgi (event)",
            ratio(med(agg, "lite", "hello", "rate"),
                  med(agg, "mod_wsgi", "hello", "rate")), 2.0,
            at_least=True)
    add("env", "env 1 KiB: CPU/req <= 1.5x static",
        cpu_ratio("env", "static"), 1.5)
    add("body1m", "1 MiB body: CPU/MiB <= 1.1x static",
        cpu_ratio("body1m", "static"), 1.1)
    add("stream10m", "64 KiB stream: CPU/MiB <= 1.1x static",
        cpu_ratio("stream10m", "static"), 1.1)
    # "No flush per chunk": a flush per chunk is ~1,000 writes a request;
    # coalescing what is ready gives a handful.  100 (one write per ten
    # chunks at worst) separates the two with room for the MPM's own.
    w = med(agg, "lite", "chunks", "writes_per_req")
    add("chunks", "1,000 chunks: no flush per chunk (writes/req <= 100)",
        w, 100, shown=None if w is None else "%.1f writes/req" % w)
    add("filewrapper", "file_wrapper: CPU/MiB <= 1.2x static",
        cpu_ratio("filewrapper", "static"), 1.2)
    add("post1m", "POST 1 MiB: CPU/MiB <= 1.2x static discarding it",
        cpu_ratio("post1m", "static"), 1.2)
    lite_rss = rss.get("lite", {})
    mw_rss = rss.get("mod_wsgi", {})
    add("rss", "RSS: child after warm-up <= mod_wsgi's",
        ratio(lite_rss.get("warm_max_kib"), mw_rss.get("warm_max_kib")),
        1.0)
    g = lite_rss.get("growth_kib")
    add("rss", "RSS: growth over %s requests <= 256 KiB"
        % "{:,}".format(lite_rss.get("requests") or 20000),
        g, 256, shown=None if g is None else "%d KiB" % g)
    # "Clearly ahead of mod_wsgi everywhere": every scenario's CPU.
    for sc in SCENARIOS:
        add(sc.name, "%s: CPU below mod_wsgi's" % sc.name,
            cpu_ratio(sc.name, "mod_wsgi"), 1.0, below=True,
            shown=None if cpu_ratio(sc.name, "mod_wsgi") is None
            else "%.3fx" % cpu_ratio(sc.name, "mod_wsgi"))
    return bars


def evaluate_daemon_bars(mpm, agg):
    """The bars of issue 16 (daemon mode), as evaluate_bars gives them:
    lite-daemon against mod_wsgi-daemon with the same WSGIDaemonProcess,
    against lite embedded, and against static Apache.  Set for the event
    MPM: decided there only (an empty list for prefork).  Bars of
    scenarios that were not run are left out; n/a when the server to
    compare with did not run."""
    bars = []
    ran = agg.get("lite-daemon", {})
    if mpm != "event":
        return bars

    def add(scenario, text, value, limit, shown=None):
        if scenario not in ran:
            return
        if value is None:
            bars.append((text, "-", "n/a"))
            return
        bars.append((text, shown or fmt_ratio(value),
                     "PASS" if value <= limit else "FAIL"))

    def cpu_ratio(scenario, other):
        return ratio(med(agg, "lite-daemon", scenario, "cpu_per"),
                     med(agg, other, scenario, "cpu_per"))

    add("hello", "daemon hello: CPU/req <= 0.4x mod_wsgi-daemon",
        cpu_ratio("hello", "mod_wsgi-daemon"), 0.4)
    add("hello", "daemon hello: CPU/req <= 2x lite embedded",
        cpu_ratio("hello", "lite"), 2.0)
    add("body1m", "daemon 1 MiB body: CPU/MiB <= 0.35x mod_wsgi-daemon",
        cpu_ratio("body1m", "mod_wsgi-daemon"), 0.35)
    add("stream10m", "daemon 10 MiB stream: CPU/MiB <= 0.35x "
        "mod_wsgi-daemon", cpu_ratio("stream10m", "mod_wsgi-daemon"), 0.35)
    add("filewrapper", "daemon file_wrapper 100 MiB: CPU/MiB <= 1.5x "
        "static", cpu_ratio("filewrapper", "static"), 1.5)
    add("post1m", "daemon POST 1 MiB: CPU/MiB <= 0.35x mod_wsgi-daemon",
        cpu_ratio("post1m", "mod_wsgi-daemon"), 0.35)
    p99 = ratio(med(agg, "lite-daemon", "hello", "p99_us"),
                med(agg, "mod_wsgi-daemon", "hello", "p99_us"))
    add("hello", "daemon hello: p99 no worse than mod_wsgi-daemon's",
        p99, 1.0, shown=None if p99 is None else "%.2fx (%s / %s ms)" % (
            p99, fmt_ms(med(agg, "lite-daemon", "hello", "p99_us")),
            fmt_ms(med(agg, "mod_wsgi-daemon", "hello", "p99_us"))))
    return bars


# The ratio columns of the tables: (heading, server, server compared
# with).  The first two always show (the tables of earlier runs had
# them); the daemon ones when either of their servers ran.
RATIOS = [("lite/static", "lite", "static"),
          ("lite/mod_wsgi", "lite", "mod_wsgi"),
          ("lite-daemon/mod_wsgi-daemon", "lite-daemon", "mod_wsgi-daemon"),
          ("lite-daemon/lite", "lite-daemon", "lite")]


def ratio_columns(servers):
    return [c for i, c in enumerate(RATIOS)
            if i < 2 or c[1] in servers or c[2] in servers]


def bars_table(bars):
    """The Markdown lines of a table of (bar, measured, verdict)."""
    return (["| bar | measured | result |", "|---|---:|---|"]
            + ["| %s | %s | %s |" % tuple(bar) for bar in bars])


def problems_list(problems):
    """The Markdown lines of a report's problems, after an empty line
    (none when there are none)."""
    if not problems:
        return []
    return ["", "Problems seen:", ""] + ["- " + p for p in problems]


def markdown(report):
    out = []
    meta = report["meta"]
    out.append("# mod_wsgi_lite benchmark, %s%s" % (
        meta["date"], " (--quick: smoke run, not for comparison)"
        if meta["quick"] else ""))
    out.append("")
    out.append("`make bench` (bench/run.py): %s; wrk %s, -t1 -c%d, %d s "
               "per run, %d run(s) per cell, interleaved; pinning: %s; "
               "medians, ± half "
               "the range of the runs. Server CPU = user+system time of "
               "the Apache parent and children (/proc: %s), per "
               "request, or per MiB the server wrote (responses) or was "
               "sent (POST)."
               % (meta["machine"], meta["wrk"], meta["connections"],
                  meta["duration"], meta["runs"],
                  meta.get("pinning", "none"), meta.get("cpu_source")))
    out.append("Module: %s (%s). mod_wsgi: %s. %s."
               % (meta["module"], meta["git"], meta["mod_wsgi"],
                  meta["apache"]))
    for mpm in report["mpms"]:
        r = report["results"][mpm]
        agg = r["aggregate"]
        servers = r["servers"]
        shape = ("1 process x %d threads" % EVENT_THREADS
                 if mpm == "event" else "%d processes" % PREFORK_PROCESSES)
        out.append("")
        out.append("## %s MPM (%s)" % (mpm, shape))
        out.append("")
        out.append("Server CPU, µs per request (req) or per MiB (MiB):")
        out.append("")
        columns = ratio_columns(servers)
        out.append("| scenario | unit | " + " | ".join(servers) + " | "
                   + " | ".join(c[0] for c in columns) + " |")
        out.append("|---|---|" + "---:|" * (len(servers) + len(columns)))
        for sc in SCENARIOS:
            if sc.name not in agg.get(servers[0], {}):
                continue
            cells = [fmt_stat(agg[s][sc.name].get("cpu_per"))
                     for s in servers]
            cells += [fmt_ratio(ratio(med(agg, a, sc.name, "cpu_per"),
                                      med(agg, b, sc.name, "cpu_per")))
                      for _, a, b in columns]
            out.append("| %s | %s | %s |" % (sc.name, sc.unit,
                                             " | ".join(cells)))
        out.append("")
        out.append("Throughput (req/s or MiB/s), latency p50 / p99 (ms), "
                   "server write system calls per request:")
        out.append("")
        out.append("| scenario | " + " | ".join(
            "%s rate" % s for s in servers) + " | "
            + " | ".join(c[0] for c in columns) + " | " + " | ".join(
            "%s p50 / p99" % s for s in servers) + " | writes/req "
            + " / ".join(servers) + " |")
        out.append("|---|" + "---:|" * (2 * len(servers) + len(columns)
                                        + 1))
        for sc in SCENARIOS:
            if sc.name not in agg.get(servers[0], {}):
                continue
            rates = [fmt_stat(agg[s][sc.name].get("rate")) for s in servers]
            rates += [fmt_ratio(ratio(med(agg, a, sc.name, "rate"),
                                      med(agg, b, sc.name, "rate")))
                      for _, a, b in columns]
            lat = ["%s / %s" % (fmt_ms(med(agg, s, sc.name, "p50_us")),
                                fmt_ms(med(agg, s, sc.name, "p99_us")))
                   for s in servers]
            writes = " / ".join(fmt_num(med(agg, s, sc.name,
                                            "writes_per_req"))
                                for s in servers)
            out.append("| %s | %s | %s | %s |" % (
                sc.name, " | ".join(rates), " | ".join(lat), writes))
        daemons = [s for s in servers if s in DAEMON_SERVERS]
        if daemons:
            out.append("")
            out.append("Daemon mode, where the server CPU goes: per request "
                       "or MiB, the daemon processes' part and the Apache "
                       "processes' (parent and children, which talk to the "
                       "client and to the daemon); writes per request of "
                       "the daemon processes alone; the times a thread of "
                       "the server (any process) was scheduled onto a CPU, "
                       "per request, beside lite embedded's (each a "
                       "hand-off between threads: the daemon transport "
                       "adds several):")
            out.append("")
            embedded = [s for s in servers if s == "lite"]
            out.append("| scenario | unit | " + " | ".join(
                "%s daemon / Apache" % s for s in daemons) + " | "
                + " | ".join("%s daemon writes/req" % s for s in daemons)
                + " | " + " | ".join("%s switches/req" % s
                                     for s in embedded + daemons) + " |")
            out.append("|---|---|" + "---:|" * (3 * len(daemons)
                                                + len(embedded)))
            for sc in SCENARIOS:
                if sc.name not in agg.get(daemons[0], {}):
                    continue
                cells = []
                for s in daemons:
                    total = med(agg, s, sc.name, "cpu_per")
                    part = med(agg, s, sc.name, "daemon_cpu_per")
                    cells.append("%s / %s" % (
                        fmt_num(part), fmt_num(None if total is None or
                                               part is None
                                               else total - part)))
                cells += [fmt_num(med(agg, s, sc.name,
                                      "daemon_writes_per_req"))
                          for s in daemons]
                cells += [fmt_num(med(agg, s, sc.name, "switches_per_req"))
                          for s in embedded + daemons]
                out.append("| %s | %s | %s |" % (sc.name, sc.unit,
                                                 " | ".join(cells)))
        if r["rss"]:
            out.append("")
            out.append("RSS of the children (KiB): after warm-up (largest "
                       "child), and over hello requests (sums over the "
                       "children; the bar is on the sum):")
            out.append("")
            out.append("| server | children | RSS after warm-up | requests "
                       "| RSS before | RSS after | growth | largest growth "
                       "of one child |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for s in servers:
                m = r["rss"].get(s)
                if not m:
                    continue
                out.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
                    s, m["children"], fmt_num(m.get("warm_max_kib")),
                    fmt_num(m.get("requests")),
                    fmt_num(m.get("before_sum_kib")),
                    fmt_num(m.get("after_sum_kib")),
                    fmt_num(m.get("growth_kib")),
                    fmt_num(m.get("growth_max_kib"))))
        # (None when lite embedded did not run.)
        if r["bars"]:
            out.append("")
            out.append("Bars (issue 4; event is the MPM they are set for):")
            out.append("")
            out += bars_table(r["bars"])
        if r.get("daemon_bars"):
            out.append("")
            out.append("Bars of issue 16 (daemon mode: lite-daemon against "
                       "mod_wsgi-daemon, same WSGIDaemonProcess; set for, "
                       "and decided under, the event MPM):")
            out.append("")
            out += bars_table(r["daemon_bars"])
        out += problems_list(r["problems"])
    cross = report.get("cross")
    if cross:
        out.append("")
        out.append("## Event against prefork")
        out.append("")
        out += bars_table(cross)
        out.append("")
        out.append("hello under each MPM: req/s event/prefork; server CPU "
                   "(µs per request) and the times a server thread was "
                   "scheduled onto a CPU (per request). Static Apache's "
                   "row is the MPMs' own difference, which every module "
                   "pays on top of its own work:")
        out.append("")
        out.append("| server | req/s event/prefork | CPU event | "
                   "CPU prefork | event - prefork | switches event | "
                   "switches prefork |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in report.get("cross_table", []):
            out.append("| " + " | ".join(row) + " |")
    out.append("")
    return "\n".join(out)


def cross_mpm(report, servers):
    """The bar that compares the MPMs (lite's hello req/s, event over
    prefork), and a table of the same for every server with what makes
    the difference: server CPU per request and the times a server thread
    was scheduled in per request, under each MPM.  Static Apache's row is
    the ceiling: whatever its event MPM costs over prefork, a module on
    top of it pays too."""
    res = report["results"]

    def hello(kind, mpm, key):
        return med(res[mpm]["aggregate"], kind, "hello", key)

    def event_over_prefork(kind):
        return ratio(hello(kind, "event", "rate"),
                     hello(kind, "prefork", "rate"))

    r = event_over_prefork("lite")
    bars = [("hello: lite under event at least as fast as under prefork "
             "(req/s event/prefork >= 1)", fmt_ratio(r),
             "n/a" if r is None else ("PASS" if r >= 1.0 else "FAIL"))]
    table = []
    for kind in (k for k in SERVERS if k in servers):
        cpu = [hello(kind, mpm, "cpu_per") for mpm in MPMS]
        sw = [hello(kind, mpm, "switches_per_req") for mpm in MPMS]
        extra = (cpu[0] - cpu[1] if None not in cpu else None)
        table.append((kind, fmt_ratio(event_over_prefork(kind)),
                      fmt_num(cpu[0]), fmt_num(cpu[1]), fmt_num(extra),
                      fmt_num(sw[0]), fmt_num(sw[1])))
    return bars, table


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def describe_machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (%s), Linux %s" % (os.cpu_count() or 0, cpu,
                                        platform.release())


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def package_version(pkg):
    return command_output(["dpkg-query", "-W", "-f=${Version}", pkg]) or "?"


def in_threads(calls, seconds, what):
    """Each (function, args) of calls in a thread of its own, all at once;
    returns when all have returned.  Bounded: a stuck server fails the run
    (RuntimeError naming what) instead of hanging it."""
    threads = [threading.Thread(target=f, args=a, daemon=True)
               for f, a in calls]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise RuntimeError("%s not done after %d s" % (what, seconds))


def hello_requests(port, count, connections):
    """count GET /hello over `connections` keep-alive connections (one
    thread each), every answer checked; returns how many were answered.
    wrk cannot stop after a number of requests (its threads can stop, but
    wrk still waits out -d), so this client counts them itself."""
    errors = []
    done = [0] * connections

    def client(i, share):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(share):
                conn.request("GET", "/hello")
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or body != b"Hello World!":
                    errors.append("status %d, %d bytes" % (resp.status,
                                                           len(body)))
                    return
                done[i] += 1
        except (OSError, http.client.HTTPException) as e:
            errors.append(str(e))
        finally:
            conn.close()

    shares = [count // connections + (1 if i < count % connections else 0)
              for i in range(connections)]
    in_threads([(client, (i, shares[i])) for i in range(connections)], 300,
               "hello requests")
    if errors:
        raise RuntimeError("hello requests failed: %s" % errors[0])
    return sum(done)


def rss_scenario(server, args, warm):
    """Children's RSS after warm-up, then before and after args.rss_requests
    hello requests."""
    before = server.rss_kib()
    answered = hello_requests(server.port, args.rss_requests,
                              args.connections)
    time.sleep(0.5)
    after = server.rss_kib()
    common = [p for p in before if p in after and before[p] and after[p]]
    return {
        "children": len(after),
        "warm_max_kib": max(v for v in warm.values() if v) if warm else None,
        "requests": answered,
        "before_sum_kib": sum(before[p] for p in common),
        "after_sum_kib": sum(after[p] for p in common),
        "growth_kib": sum(after[p] - before[p] for p in common),
        "growth_max_kib": max((after[p] - before[p] for p in common),
                              default=None),
        "children_replaced": sorted(before) != sorted(after),
    }


# Lines a server logs when wrk, its time up, closes connections in the
# middle of a response: expected, so counted apart from real errors.
# mod_wsgi logs "Exception occurred processing WSGI script" and then
# "OSError: Apache/mod_wsgi failed to write response data: Connection reset
# by peer" for each.
CLIENT_GONE = ("Connection reset by peer", "Broken pipe",
               "Exception occurred processing WSGI script")


def error_lines(server):
    """(error-level lines of the server's log, count of client-gone ones)."""
    bad = []
    aborts = 0
    for line in server.error_log_lines():
        if not any(tag in line for tag in (":error]", ":crit]", ":alert]",
                                          ":emerg]")):
            continue
        if any(text in line for text in CLIENT_GONE):
            aborts += 1
        else:
            bad.append(line)
    return bad, aborts


def error_problems(started, problems, expected=None):
    """Each server's error-level log lines into problems: the count and
    the first, then the client-gone ones counted apart.  expected: {text:
    why} for lines a server is known to log under this load (counted
    with the reason, not as errors)."""
    for srv in started:
        bad, aborts = error_lines(srv)
        for text, why in (expected or {}).items():
            seen = [line for line in bad if text in line]
            if seen:
                bad = [line for line in bad if text not in line]
                problems.append("%s error log: %d line(s) %s (%s)"
                                % (srv.kind, len(seen), text, why))
        if bad:
            problems.append(
                "%s error log: %d error line(s), first: %s" % (
                    srv.kind, len(bad), bad[0][:300]))
        if aborts:
            problems.append(
                "%s error log: %d line(s) about clients gone "
                "mid-response (wrk stops in the middle of large "
                "responses when its time is up)" % (srv.kind, aborts))


def start_server(srv, started, log):
    """Start srv, put in started first: stop_servers(started) then stops
    it even when its start fails."""
    started.append(srv)
    log("starting %s (%s MPM) on port %d" % (srv.kind, srv.mpm, srv.port))
    srv.start()
    if srv.daemon_pid_list:
        log("%s: parent %d, daemon process(es) %s" % (
            srv.kind, srv.proc.pid,
            ", ".join(str(p) for p in srv.daemon_pid_list)))


def stop_servers(started):
    """Stop every server started, by its pid."""
    # A second Ctrl-C must not cut the stopping short.
    saved = {sig: signal.signal(sig, signal.SIG_IGN)
             for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        for srv in started:
            srv.stop()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def server_failure(srv, problem, args, scenario=None):
    """The error that ends the run when a server answers wrong."""
    return RuntimeError("%s %s%s: %s (error log: %s)" % (
        srv.mpm, srv.kind, " " + scenario.name if scenario else "", problem,
        os.path.join(srv.dir, "error_log")
        + ("" if args.keep else ", kept with --keep")))


def check_servers(started, scenarios, htdocs, args):
    """Correctness first: every server, every scenario, exact bytes; and
    each app runs where the server's kind says."""
    for srv in started:
        problem = check_where(srv)
        if problem:
            raise server_failure(srv, problem, args)
        for sc in scenarios:
            problem = check_scenario(srv, sc, htdocs)
            if problem:
                raise server_failure(srv, problem, args, sc)


def warm_up(cells, luas, args):
    """args.warmup seconds of wrk on each server of each cell (scenario,
    servers)."""
    for sc, servers in cells:
        for srv in servers:
            run_wrk(srv, sc, luas[sc.name], args.warmup,
                    args.connections, args.wrk_cpus)


def timed_runs(cells, luas, args, htdocs, problems, log):
    """{kind: {scenario: [measure(), ...]}}: args.runs rounds, each of
    every cell (scenario, servers) in turn, its servers one after the
    other.  wrk's socket errors and a changed set of children go into
    problems; a status or timeout error ends the run."""
    runs = {}
    for sc, servers in cells:
        for srv in servers:
            runs.setdefault(srv.kind, {})[sc.name] = []
    for rep in range(args.runs):
        for sc, servers in cells:
            # Rotate the order each round, so that no server always
            # runs right after the same neighbour.
            order = servers[rep % len(servers):] + \
                servers[:rep % len(servers)]
            for srv in order:
                m = measure(srv, sc, luas[sc.name], args.duration,
                            args.connections, htdocs, args.wrk_cpus)
                runs[srv.kind][sc.name].append(m)
                bad = {k: v for k, v in m["errors"].items() if v}
                if bad.get("status") or bad.get("timeout"):
                    raise RuntimeError("%s %s %s: wrk errors %s" % (
                        srv.mpm, srv.kind, sc.name, bad))
                if bad:
                    problems.append(
                        "%s %s run %d: wrk socket errors %s" % (
                            srv.kind, sc.name, rep + 1, bad))
                if m["children_changed"]:
                    problems.append(
                        "%s %s run %d: the set of children changed "
                        "during the run" % (srv.kind, sc.name, rep + 1))
                log("%s %-8s %-11s run %d: %s %s/s, %s µs/%s" % (
                    srv.mpm, srv.kind, sc.name, rep + 1,
                    fmt_num(m["rate"]), sc.unit, fmt_num(m["cpu_per"]),
                    sc.unit))
    return runs


def aggregate(runs):
    """The medians and spreads of timed_runs' figures, by kind and
    scenario."""
    return {kind: {name: {key: summary([m[key] for m in ms])
                          for key in ("rate", "cpu_per", "p50_us",
                                      "p99_us", "writes_per_req",
                                      "switches_per_req", "daemon_cpu_per",
                                      "daemon_writes_per_req")}
                   for name, ms in per.items()}
            for kind, per in runs.items()}


def run_mpm(mpm, servers, scenarios, args, rundir, htdocs, log):
    result = {"servers": servers, "runs": {}, "aggregate": {},
              "rss": {}, "problems": []}
    started = []
    try:
        for kind in servers:
            start_server(Server(kind, mpm, rundir, args), started, log)
        check_servers(started, scenarios, htdocs, args)
        log("all responses checked (status, length, sha256; the daemon "
            "servers' apps ran in their daemon process)")
        # The RSS scenario measures hello requests on a warm server: warm
        # hello up even when it is not timed.
        warm = list(scenarios)
        if args.with_rss and SCENARIOS[0] not in warm:
            warm.append(SCENARIOS[0])
        luas = {sc.name: write_lua(rundir, sc, htdocs) for sc in warm}
        warm_up([(sc, started) for sc in warm], luas, args)
        log("warmed up (%d s per scenario and server)" % args.warmup)
        warm_rss = {srv.kind: srv.rss_kib() for srv in started}
        result["runs"] = timed_runs([(sc, started) for sc in scenarios],
                                    luas, args, htdocs, result["problems"],
                                    log)
        result["aggregate"] = aggregate(result["runs"])
        if args.with_rss:
            for srv in started:
                result["rss"][srv.kind] = rss_scenario(
                    srv, args, warm_rss[srv.kind])
                log("%s %s RSS: %s" % (mpm, srv.kind,
                                       result["rss"][srv.kind]))
                if result["rss"][srv.kind]["children_replaced"]:
                    result["problems"].append(
                        "%s: children replaced during the RSS requests "
                        "(growth counts only those that stayed)" % srv.kind)
        error_problems(started, result["problems"])
    finally:
        stop_servers(started)
    result["bars"] = evaluate_bars(mpm, result["aggregate"], result["rss"])
    result["daemon_bars"] = evaluate_daemon_bars(mpm, result["aggregate"])
    return result


def git_describe():
    head = command_output(["git", "-C", TOP, "rev-parse", "--short",
                           "HEAD"]) or "?"
    dirty = command_output(["git", "-C", TOP, "status", "--porcelain",
                            "--untracked-files=no", "--", "src",
                            "mod_wsgi_lite.c"])
    return head + (" + uncommitted changes" if dirty else "")


def add_common_arguments(p, connections, module=LITE_SO,
                         module_help="this checkout's"):
    """The options of every suite's timed runs (run.py's and pool.py's);
    finish_common_args completes them."""
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 s runs, 1 run per cell, 1 s warm-up")
    p.add_argument("--runs", type=int, default=None,
                   help="wrk runs per server and scenario (default 3)")
    p.add_argument("--duration", type=int, default=None,
                   help="seconds per wrk run (default 5)")
    p.add_argument("--warmup", type=int, default=None,
                   help="seconds of warm-up per server and scenario "
                        "(default 2)")
    p.add_argument("--connections", type=int, default=connections,
                   help="wrk connections (default %d)" % connections)
    p.add_argument("--pin", action="store_true",
                   help="wrk and this script on CPU 0, Apache on the other "
                        "CPUs (default: the scheduler places them, as in "
                        "the issue's measurements)")
    p.add_argument("--httpd", default=HTTPD)
    p.add_argument("--module", default=module,
                   help="mod_wsgi_lite.so to load (default: %s)"
                   % module_help)
    p.add_argument("--results", default=os.path.join(HERE, "results"),
                   help="directory for <date>.md and <date>.json")
    p.add_argument("--no-save", action="store_true",
                   help="print only, write no result files")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory (configs, logs)")


def finish_common_args(p, args, positive=()):
    """--quick's defaults, --module made absolute, the numbers checked
    (those of add_common_arguments and the names in positive), the CPUs
    of --pin."""
    quick = args.quick
    # Apache resolves a relative LoadModule path against its ServerRoot,
    # the run's temporary directory: make it this directory's.
    args.module = os.path.abspath(args.module)
    if args.runs is None:
        args.runs = 1 if quick else 3
    if args.duration is None:
        args.duration = 1 if quick else 5
    if args.warmup is None:
        args.warmup = 1 if quick else 2
    for name in ("runs", "duration", "warmup", "connections") + positive:
        if getattr(args, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    # Pinned, the load generator and the server never take turns on one
    # core or migrate between them, and the cells' spread shrinks (from
    # +-30-60% to +-5-15% for hello on a 2-core VM).  But the server then
    # runs on one core, where threads never run Python at the same time:
    # an event-MPM child's GIL is not contended, which flatters mod_wsgi
    # most.  The bars were set unpinned, so that is the default.
    cpus = sorted(os.sched_getaffinity(0))
    if not args.pin or len(cpus) < 2:
        args.wrk_cpus = args.server_cpus = None
    else:
        args.wrk_cpus = str(cpus[0])
        args.server_cpus = ",".join(str(c) for c in cpus[1:])
    return args


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Benchmark mod_wsgi_lite against static Apache and "
                    "mod_wsgi, embedded and in daemon mode (issues 4 "
                    "and 16).")
    add_common_arguments(p, connections=8)
    p.add_argument("--mpm", default=",".join(MPMS),
                   help="comma-separated MPMs (default: event,prefork)")
    p.add_argument("--servers", default=",".join(SERVERS),
                   help="comma-separated servers (default: all): "
                        + ",".join(SERVERS))
    p.add_argument("--only", default=",".join(SCENARIO_NAMES),
                   help="comma-separated scenarios: " +
                   ",".join(SCENARIO_NAMES))
    p.add_argument("--rss-requests", type=int, default=20000,
                   help="hello requests for the RSS growth (default 20000)")
    p.add_argument("--mod-wsgi", default=MOD_WSGI_SO,
                   help="Debian's mod_wsgi.so")
    args = finish_common_args(p, p.parse_args(argv),
                              positive=("rss_requests",))
    args.mpms = [m for m in args.mpm.split(",") if m]
    args.server_list = [s for s in args.servers.split(",") if s]
    args.only_list = [s for s in args.only.split(",") if s]
    for m in args.mpms:
        if m not in MPMS:
            p.error("unknown MPM %r (event, prefork)" % m)
    for s in args.server_list:
        if s not in SERVERS:
            p.error("unknown server %r (%s)" % (s, ", ".join(SERVERS)))
    for s in args.only_list:
        if s not in SCENARIO_NAMES:
            p.error("unknown scenario %r (%s)" % (s, ", ".join(
                SCENARIO_NAMES)))
    args.with_rss = "rss" in args.only_list
    return args


def fill_rundir(rundir, scenarios, log):
    """The static files and the apps, in rundir, readable by all; the
    htdocs directory."""
    os.chmod(rundir, 0o755)
    htdocs = os.path.join(rundir, "htdocs")
    log("writing the static files to %s" % htdocs)
    write_htdocs(htdocs, any(s.name == "filewrapper" for s in scenarios))
    shutil.copytree(os.path.join(HERE, "apps"), os.path.join(rundir, "apps"))
    for root, dirs, files in os.walk(rundir):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    if os.geteuid() == 0:
        # The children run as www-data; the error logs are opened by the
        # root parent, nothing else needs writing.
        pwd.getpwnam("www-data")
    return htdocs


def log(msg):
    print("bench %s: %s" % (time.strftime("%H:%M:%S"), msg),
          file=sys.stderr, flush=True)


def check_tools(args):
    if not shutil.which("wrk"):
        sys.exit("bench: wrk not found (make bench installs it: "
                 "bench/deps.sh)")
    if not os.access(args.httpd, os.X_OK):
        sys.exit("bench: %s not found" % args.httpd)


def prepare_run(args):
    """Signals end the run through the finally blocks that stop every
    Apache started; with --pin, this process (and so wrk) on its CPU."""
    # SIGTERM and SIGHUP end the run like Ctrl-C.
    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    # Also when started in the background by a shell, which ignores
    # SIGINT in such children: kill -INT must stop the run too.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    if args.wrk_cpus is not None:
        os.sched_setaffinity(0, {int(args.wrk_cpus)})
        log("pinned: wrk and %s on CPU %s, Apache on CPU %s"
            % (os.path.basename(sys.argv[0]), args.wrk_cpus,
               args.server_cpus))


def common_meta(args, now):
    """What every report says of its run: when, where, with what."""
    return {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "machine": describe_machine(),
        "wrk": command_output(["wrk", "--version"]).split(
            "\n")[0].split(" [")[0].replace("wrk ", "") or "?",
        "apache": command_output([args.httpd, "-v"]).split(
            "\n")[0].replace("Server version: ", ""),
        "module": os.path.relpath(args.module, TOP)
        if args.module.startswith(TOP) else args.module,
        "git": git_describe(),
        "runs": args.runs, "duration": args.duration,
        "warmup": args.warmup, "connections": args.connections,
        "pinning": ("wrk on CPU %s, Apache on CPU %s"
                    % (args.wrk_cpus, args.server_cpus)
                    if args.wrk_cpus is not None else "none"),
    }


def cpu_source(all_runs):
    """Where the runs' server CPU came from, as the reports say it."""
    sources = sorted({m["cpu_source"] for m in all_runs})
    exact = sum(m["cpu_s"] for m in all_runs)
    ticks = sum(m["cpu_stat_s"] for m in all_runs)
    return (
        "threads' schedstat run time, ns; utime+stime of /proc/<pid>/stat "
        "over all runs: %.3fx of it" % (ticks / exact)
        if sources == ["schedstat"] and exact else
        "utime+stime of /proc/<pid>/stat, clock ticks")


def save_report(args, now, suffix, text, report):
    """text and report as <results>/<date><suffix>[-quick].md and .json,
    unless --no-save."""
    if args.no_save:
        return
    os.makedirs(args.results, exist_ok=True)
    stem = now.strftime("%Y-%m-%d-%H%M") + suffix + ("-quick" if args.quick
                                                     else "")
    md = os.path.join(args.results, stem + ".md")
    with open(md, "w") as f:
        f.write(text)
    with open(os.path.join(args.results, stem + ".json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    log("wrote %s and .json" % md)


def main(argv):
    args = parse_args(argv)
    check_tools(args)
    servers = [s for s in SERVERS if s in args.server_list]
    modules = {s: DAEMON_SERVERS.get(s, s) for s in servers}
    if "lite" in modules.values() and not os.path.isfile(args.module):
        sys.exit("bench: %s not built (run make)" % args.module)
    if "mod_wsgi" in modules.values() and not os.path.isfile(args.mod_wsgi):
        left_out = [s for s in servers if modules[s] == "mod_wsgi"]
        log("%s not installed: %s left out (apt-get install "
            "libapache2-mod-wsgi-py3)" % (args.mod_wsgi,
                                          " and ".join(left_out)))
        servers = [s for s in servers if s not in left_out]
    if not servers:
        sys.exit("bench: no server to run")
    scenarios = [s for s in SCENARIOS if s.name in args.only_list]
    prepare_run(args)
    t0 = time.monotonic()
    rundir = tempfile.mkdtemp(prefix="wsl-bench.")
    report = None
    try:
        htdocs = fill_rundir(rundir, scenarios, log)
        now = datetime.datetime.now(datetime.timezone.utc)
        meta = common_meta(args, now)
        meta["mod_wsgi"] = (
            "libapache2-mod-wsgi-py3 "
            + package_version("libapache2-mod-wsgi-py3")
            if any(DAEMON_SERVERS.get(s, s) == "mod_wsgi" for s in servers)
            else "not run")
        meta["rss_requests"] = args.rss_requests
        meta["scenarios"] = [s.name for s in scenarios]
        report = {
            "meta": meta,
            "mpms": [m for m in MPMS if m in args.mpms],
            "results": {},
        }
        for mpm in report["mpms"]:
            report["results"][mpm] = run_mpm(mpm, servers, scenarios, args,
                                             rundir, htdocs, log)
        if len(report["mpms"]) == 2 and "lite" in servers and any(
                s.name == "hello" for s in scenarios):
            report["cross"], report["cross_table"] = cross_mpm(report,
                                                               servers)
    finally:
        if args.keep:
            log("kept %s" % rundir)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
    report["meta"]["elapsed_s"] = round(time.monotonic() - t0, 1)
    report["meta"]["cpu_source"] = cpu_source(
        [m for mpm in report["mpms"]
         for per in report["results"][mpm]["runs"].values()
         for ms in per.values() for m in ms])
    text = markdown(report)
    text += "\nRun took %d s.\n" % report["meta"]["elapsed_s"]
    print(text)
    save_report(args, now, "", text, report)
    failed = [b for mpm in report["mpms"]
              for key in ("bars", "daemon_bars")
              for b in report["results"][mpm][key] if b[2] == "FAIL"]
    failed += [b for b in report.get("cross", []) if b[2] == "FAIL"]
    log("%d bar(s) failed" % len(failed) if failed else "every bar decided "
        "was met")
    return 0


def run_main(main_function):
    """A suite's command line: its exit status, or the error that ended
    it (every Apache it started has been stopped by then)."""
    try:
        sys.exit(main_function(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; every Apache started was stopped")
    except RuntimeError as e:
        sys.exit("bench: %s" % e)


if __name__ == "__main__":
    run_main(main)
