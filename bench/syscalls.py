#!/usr/bin/python3
"""bench/syscalls.py: system calls per request on each side of the daemon
socket, counted by strace -c.

    bench/syscalls.py                          lite-daemon, mod_wsgi-daemon
    bench/syscalls.py --servers lite,lite-daemon --only hello --requests 5000
    bench/syscalls.py --module /path/to/other/mod_wsgi_lite.so

Each server is started as bench/run.py starts it (the same generated
configuration: event MPM, 1 child x 32 threads; the daemon servers with
WSGIDaemonProcess bench processes=1 threads=16), every scenario checked
(status, length, sha256; the apps run in the daemon process), warmed up,
and then, for each scenario, two `strace -c -f` attach: one to the Apache
children (every thread), one to the daemon processes.  A fixed number of
requests goes through (--connections keep-alive connections, each
answer's status and length checked), strace detaches, and its counts are
divided by the number of requests.

The counts include what the idle threads do meanwhile (the event MPM's
listener wakes on its own timer, a daemon's main thread every second):
a few calls per second, against thousands of requests.  strace stops the
traced threads at every call, so timings mean nothing here and the way
calls coalesce (how much one read gets) may differ from an untraced run:
the counts are indicative.  Each Apache and strace started here is
stopped by its pid; every wait is bounded.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import run

DEFAULT_REQUESTS = {"hello": 3000, "env": 3000, "hello_close": 2000,
                    "chunks": 1000, "body1m": 500, "post1m": 500,
                    "stream10m": 100, "filewrapper": 20}


def counted_requests(port, scenario, htdocs, count, connections, timeout):
    """count requests of scenario over `connections` keep-alive
    connections (one thread each), each answer's status and length
    checked; raises on the first failure."""
    size = os.path.getsize(os.path.join(htdocs, scenario.static))
    body = None
    headers = {}
    if scenario.request_body:
        with open(os.path.join(htdocs, scenario.request_body), "rb") as f:
            body = f.read()
        headers["Content-Type"] = "application/octet-stream"
    if scenario.close:
        headers["Connection"] = "close"
    errors = []

    def client(share):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            for _ in range(share):
                conn.request(scenario.method, scenario.url, body=body,
                             headers=headers)
                resp = conn.getresponse()
                got = 0
                while True:
                    block = resp.read(run.MIB)
                    if not block:
                        break
                    got += len(block)
                if resp.status != 200 or got != size:
                    errors.append("status %d, %d bytes" % (resp.status, got))
                    return
        except (OSError, http.client.HTTPException) as e:
            errors.append(repr(e))
        finally:
            conn.close()

    shares = [count // connections + (1 if i < count % connections else 0)
              for i in range(connections)]
    run.in_threads([(client, (n,)) for n in shares if n], timeout,
                   "%s: requests" % scenario.name)
    if errors:
        raise RuntimeError("%s: %s" % (scenario.name, errors[0]))


def tracer_of(tid_status):
    with open(tid_status) as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


class Strace:
    """strace -c -f on some processes (all their threads), until stop()."""

    def __init__(self, pids, out):
        self.pids = pids
        self.out = out
        cmd = ["strace", "-c", "-f", "-q", "-o", out]
        for pid in pids:
            cmd += ["-p", str(pid)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        # Attached when every thread says so.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("strace exited: %s"
                                   % self.proc.stderr.read().decode()[-500:])
            if all(self.attached(pid) for pid in pids):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("strace did not attach to %s within 20 s" % pids)

    def attached(self, pid):
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
            return all(tracer_of("/proc/%d/task/%s/status" % (pid, t))
                       == self.proc.pid for t in tasks)
        except OSError:
            return False

    def stop(self):
        """Detach (strace writes its summary on SIGINT): {syscall:
        (calls, errors)}."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
                raise RuntimeError("strace did not stop on SIGINT")
        return parse_summary(self.out)


def parse_summary(path):
    """strace -c's table: {syscall: (calls, errors)}."""
    counts = {}
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return counts
    for line in lines:
        # % time  seconds  usecs/call  calls  [errors]  syscall
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)$",
                     line)
        if m and m.group(3) != "total":
            counts[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
    return counts


def sides(server):
    """(side name, pids) to trace: the Apache children, and the daemon
    processes for a daemon server."""
    daemons = server.daemon_pids()
    apache = [p for p in server.children() if p not in daemons]
    out = [("Apache", apache)]
    if daemons:
        out.append(("daemon", daemons))
    return out


def measure(server, scenario, htdocs, count, args, workdir):
    """{side: {syscall: (calls, errors) per request}}."""
    traces = []
    try:
        for side, pids in sides(server):
            out = os.path.join(workdir, "%s.%s.%s" % (server.kind,
                                                      scenario.name, side))
            traces.append((side, Strace(pids, out)))
        counted_requests(server.port, scenario, htdocs, count,
                         args.connections, args.timeout)
        # What the last responses left in flight, before detaching.
        time.sleep(0.2)
    finally:
        results = {}
        for side, trace in traces:
            results[side] = {name: (calls / count, errs / count)
                             for name, (calls, errs)
                             in trace.stop().items()}
    return results


def table(scenario, count, columns):
    """Markdown: a row per system call, a column per (server, side)."""
    names = sorted({n for _, per in columns for n in per},
                   key=lambda n: -max(per.get(n, (0, 0))[0]
                                      for _, per in columns))
    out = ["%s (%s), %d requests: system calls per request"
           % (scenario.name, scenario.what, count), "",
           "| system call | " + " | ".join(h for h, _ in columns) + " |",
           "|---|" + "---:|" * len(columns)]

    def cell(per, name):
        calls, errs = per.get(name, (0, 0))
        if not calls:
            return "-"
        return "%.2f" % calls + (" (%.2f failed)" % errs if errs else "")

    for name in names:
        if max(per.get(name, (0, 0))[0] for _, per in columns) < 0.01:
            continue
        out.append("| %s | %s |" % (name, " | ".join(
            cell(per, name) for _, per in columns)))
    out.append("| **total** | %s |" % " | ".join(
        "**%.2f**" % sum(c for c, _ in per.values()) for _, per in columns))
    return "\n".join(out)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--servers", default="lite-daemon,mod_wsgi-daemon",
                   help="comma-separated, of " + ",".join(run.SERVERS))
    p.add_argument("--only", default="hello,post1m,stream10m",
                   help="comma-separated scenarios (default "
                        "hello,post1m,stream10m)")
    p.add_argument("--requests", default="",
                   help="scenario=N,... (defaults: %s)" % ",".join(
                       "%s=%d" % kv for kv in DEFAULT_REQUESTS.items()))
    p.add_argument("--mpm", default="event", choices=run.MPMS)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--timeout", type=int, default=300,
                   help="bound on each batch of requests, seconds")
    p.add_argument("--httpd", default=run.HTTPD)
    p.add_argument("--module", default=run.LITE_SO)
    p.add_argument("--mod-wsgi", default=run.MOD_WSGI_SO)
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory (configs, logs, "
                        "strace's tables)")
    args = p.parse_args(argv)
    args.server_list = [s for s in args.servers.split(",") if s]
    for s in args.server_list:
        if s not in run.SERVERS:
            p.error("unknown server %r" % s)
    names = {sc.name: sc for sc in run.SCENARIOS}
    args.scenarios = []
    for s in args.only.split(","):
        if s not in names:
            p.error("unknown scenario %r" % s)
        args.scenarios.append(names[s])
    args.counts = dict(DEFAULT_REQUESTS)
    for item in filter(None, args.requests.split(",")):
        name, _, n = item.partition("=")
        if name not in names or not n.isdigit() or int(n) < 1:
            p.error("--requests: %r is not scenario=N" % item)
        args.counts[name] = int(n)
    args.server_cpus = None     # run.Server's pinning: none
    return args


def main(argv):
    args = parse_args(argv)

    def log(msg):
        print("syscalls %s: %s" % (time.strftime("%H:%M:%S"), msg),
              file=sys.stderr, flush=True)

    if not shutil.which("strace"):
        sys.exit("syscalls.py: strace not found (apt-get install strace)")

    def interrupted(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    rundir = tempfile.mkdtemp(prefix="wsl-syscalls.")
    work = os.path.join(rundir, "strace")
    results = {}
    try:
        htdocs = run.fill_rundir(rundir, args.scenarios, log)
        os.mkdir(work)
        for kind in args.server_list:
            srv = run.Server(kind, args.mpm, rundir, args)
            try:
                log("starting %s (%s MPM)" % (kind, args.mpm))
                srv.start()
                problem = run.check_where(srv)
                for sc in args.scenarios:
                    problem = problem or run.check_scenario(srv, sc, htdocs)
                if problem:
                    raise RuntimeError("%s: %s" % (kind, problem))
                for sc in args.scenarios:
                    # Warm: the script imported, the buffers grown.
                    counted_requests(srv.port, sc, htdocs,
                                     max(args.connections,
                                         args.counts[sc.name] // 10),
                                     args.connections, args.timeout)
                    per = measure(srv, sc, htdocs, args.counts[sc.name],
                                  args, work)
                    results[(kind, sc.name)] = per
                    log("%s %s: %s" % (kind, sc.name, ", ".join(
                        "%s %.1f calls/req" % (side, sum(
                            c for c, _ in counts.values()))
                        for side, counts in per.items())))
            finally:
                srv.stop()
    finally:
        if args.keep:
            log("kept %s" % rundir)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
    print("# System calls per request, strace -c -f (%s MPM; indicative: "
          "strace changes timing)\n" % args.mpm)
    for sc in args.scenarios:
        columns = [("%s %s" % (kind, side), counts)
                   for kind in args.server_list
                   for side, counts in results[(kind, sc.name)].items()]
        print(table(sc, args.counts[sc.name], columns))
        print()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit("syscalls.py: interrupted; every Apache and strace started "
                 "was stopped")
    except RuntimeError as e:
        sys.exit("syscalls.py: %s" % e)
