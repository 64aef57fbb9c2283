#!/usr/bin/python3
"""bench/pool.py: pools of sub-interpreters with their own GIL (issue 18).

One application group, "pool", served by mod_wsgi_lite in five Apache
servers side by side, each from a private configuration generated in a
temporary directory by bench/run.py's machinery (its configuration head,
start and stop by pid, checks, interleaved wrk runs, CPU from schedstat,
RSS; the system Apache is left alone):

  shared    event, 1 process x 32 threads; the group is one interpreter
            sharing the main GIL (no <WSGIInterpreterOptions>)      = A
  pool      event, 1 x 32; <WSGIInterpreterOptions application-group=pool>
            WSGIPerInterpreterGIL On, WSGIInterpreterCount 2: two
            interpreters, each with its own GIL                     = B
  pool1     the same with WSGIInterpreterCount 1: not timed, the memory
            reference for what one more interpreter costs
  prefork2  prefork with exactly 2 processes (the GIL of each shared by
            nobody), KeepAlive Off                                  = C
  prefork   prefork with run.py's 32 processes
  static, static-prefork
            Apache alone serving hello's bytes from a file, under event
            (1 x 32) and prefork (32): not a bar, the event MPM's own
            cost against prefork, printed beside the hello bar

Every server mounts the same scripts in the group "pool" (WSGIScriptAlias
... application-group=pool) and preloads them there (WSGIImportScript
application-group=pool).  The scenarios: "cpu" (bench/apps/cpu.wsgi,
about 2 ms of Python per request) on A, B and C, and run.py's "hello" on
B, prefork and the two static servers; both are warmed up on every
server, so the RSS after the warm-up compares servers that have run the
same code.

Before anything is timed: every scenario on every server (status 200,
exact length and sha256), the apps running in an Apache child (/pid), and
/interp (bench/apps/interp.wsgi) answering 32 requests at once on each
server: the interpreters each runs the group in (B: indices 0 and 1 in
environ["mod_wsgi_lite.interpreter"], two interpreters of their own GIL;
A: one, its GIL shared), and the Python the server embeds, printed with
the figures.

prefork2 runs with KeepAlive Off: with it on, each of its 2 processes
would hold one of wrk's 16 connections for the whole run and the other 14
would wait unanswered (their latencies missing, their requests answered
after the run); off, every connection is answered in turn and each
request pays a connection set-up (a few tens of µs against the 2 ms).

The bars (issue 18), printed, never asserted: cpu req/s B >= 1.8x A and
>= 0.95x C; server CPU per cpu request of B <= 1.1x A's; hello req/s of
B >= prefork's.  They are n/a when the server embeds a Python before 3.12
(no per-interpreter GIL).

Output: Markdown on stdout and in bench/results/<date>-pool.md, the raw
numbers in bench/results/<date>-pool.json.  Run with Debian's
/usr/bin/python3 (`make bench-pool` builds the module for the newest
Python there is and runs this).

  bench/pool.py --module build/py3.13/mod_wsgi_lite.so
  bench/pool.py --quick               smoke run: 1 s per run, 1 run
"""

import argparse
import dataclasses
import datetime
import glob
import http.client
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time

import run

GROUP = "pool"
POOL_SIZE = 2
# /interp requests sent at once to each server: one per event worker
# thread, so every thread, whichever interpreter it is bound to, answers.
INTERP_REQUESTS = run.EVENT_THREADS
INTERP_SLEEP_MS = 100

CPU = run.Scenario("cpu", "cpu.bin", "req",
                   "about 2 ms of Python: a 48 KB page from string.Template,"
                   " str.format and json.dumps")
HELLO = next(s for s in run.SCENARIOS if s.name == "hello")
SCENARIOS = [CPU, HELLO]
# The scripts every server mounts in the group (besides /pid).
APPS = ["interp", "cpu", "hello"]


@dataclasses.dataclass
class Kind:
    """One server of the suite: its MPM, its Apache children, and its
    pool (interpreters: WSGIInterpreterCount under WSGIPerInterpreterGIL
    On; None: no <WSGIInterpreterOptions>, one interpreter sharing the
    main GIL)."""

    name: str
    role: str
    mpm: str
    processes: int
    interpreters: int | None
    keepalive: bool = True
    static: bool = False

    @property
    def wsgi(self):
        return not self.static

    @property
    def shape(self):
        if self.mpm == "event":
            return "event, 1 process x %d threads" % run.EVENT_THREADS
        return "prefork, %d processes%s" % (
            self.processes, "" if self.keepalive else ", KeepAlive Off")

    @property
    def pool(self):
        if self.static:
            return "no Python: the same bytes from a file"
        if self.interpreters is None:
            return "1 interpreter, main GIL shared"
        return "%d interpreter%s, own GIL" % (
            self.interpreters, "s" if self.interpreters > 1 else "")


KINDS = {k.name: k for k in (
    Kind("shared", "A", "event", 1, None),
    Kind("pool", "B", "event", 1, POOL_SIZE),
    Kind("pool1", "memory reference", "event", 1, 1),
    Kind("prefork2", "C", "prefork", 2, None, keepalive=False),
    Kind("prefork", "run.py's prefork", "prefork", run.PREFORK_PROCESSES,
         None),
    # Apache alone, under each MPM: what the event MPM costs against
    # prefork with no module at all, beside the hello bar.
    Kind("static", "Apache alone, event", "event", 1, None, static=True),
    Kind("static-prefork", "Apache alone, prefork", "prefork",
         run.PREFORK_PROCESSES, None, static=True),
)}
# What is timed: (scenario, servers), in this order each round.
CELLS = [(CPU, ("shared", "pool", "prefork2")),
         (HELLO, ("pool", "prefork", "static", "static-prefork"))]
# Error lines a server logs under this load by design.
EXPECTED_ERRORS = {
    "AH00161": "MaxRequestWorkers reached: prefork2 has 2 processes for "
               "16 connections, as configured",
}


def pool_config(kind, mpm, rundir, port, args):
    """run.Server's config: run.py's head, the pool's container, the
    scripts in the group "pool"."""
    spec = KINDS[kind]
    sdir, lines = run.config_head(kind, mpm, rundir, port, args,
                                  "lite" if spec.wsgi else None,
                                  processes=spec.processes,
                                  keepalive=spec.keepalive,
                                  by="bench/pool.py")
    if spec.static:
        htdocs = os.path.join(rundir, "htdocs")
        lines += ['Alias %s "%s/%s"' % (sc.url, htdocs, sc.static)
                  for sc in SCENARIOS]
        return run.write_config(sdir, lines)
    # The same interval on every server, when asked: the main GIL's and,
    # as their lowest layer, each own GIL's.
    if args.switch_interval:
        lines += ["WSGISwitchInterval %g" % args.switch_interval]
    if spec.interpreters is not None:
        lines += ["<WSGIInterpreterOptions application-group=%s>" % GROUP,
                  "    WSGIPerInterpreterGIL On",
                  "    WSGIInterpreterCount %d" % spec.interpreters,
                  "</WSGIInterpreterOptions>"]
    lines += run.script_lines(os.path.join(rundir, "apps"), APPS,
                              alias_options="application-group=" + GROUP,
                              preload=GROUP)
    return run.write_config(sdir, lines)


def write_cpu_twin(rundir, htdocs):
    """htdocs/cpu.bin: the cpu app's body, rendered here by the app's own
    render() (the same bytes on every Python 3)."""
    path = os.path.join(rundir, "apps", "cpu.wsgi")
    loader = importlib.machinery.SourceFileLoader("bench_cpu_app", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    twin = os.path.join(htdocs, CPU.static)
    with open(twin, "wb") as f:
        f.write(module.render())
    os.chmod(twin, 0o644)


# --------------------------------------------------------------------------
# Which interpreters serve the group, and on which Python
# --------------------------------------------------------------------------

def interp_answers(port):
    """INTERP_REQUESTS GET /interp?sleep=... at once, one connection each:
    their JSON answers, or raises."""
    answers = []
    errors = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/interp?sleep=%d" % INTERP_SLEEP_MS)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                errors.append("status %d: %r" % (resp.status, body[:200]))
            else:
                answers.append(json.loads(body))
        except (OSError, http.client.HTTPException, ValueError) as e:
            errors.append("%s: %r" % (type(e).__name__, e))
        finally:
            conn.close()

    # prefork2 answers them two at a time (2 s), the others at once.
    run.in_threads([(client, ())] * INTERP_REQUESTS, 60, "/interp requests")
    if errors:
        raise RuntimeError("/interp: %s" % errors[0])
    return answers


def check_interpreters(srv, args):
    """What the server's /interp answers say of it, as a dict; raises
    (run.server_failure) when the group does not run as its kind says:
    a pool of N in N interpreters of their own GIL with the indices
    0..N-1, otherwise one interpreter per process, its GIL shared; never
    the main interpreter; one Python everywhere."""
    spec = KINDS[srv.kind]
    answers = interp_answers(srv.port)
    children = set(srv.children())
    pids = sorted({a["pid"] for a in answers})
    versions = sorted({a["version"] for a in answers})
    prefixes = sorted({a["prefix"] for a in answers})
    # Per process: {index: {interp_id, ...}} and the GILs reported.
    seen = {}
    gils = sorted({str(a["gil"]) for a in answers})
    for a in answers:
        seen.setdefault(a["pid"], {}).setdefault(
            a["interpreter"], set()).add(a["interp_id"])
    problems = []
    if not set(pids) <= children:
        problems.append("pid(s) %s are not Apache children" % sorted(
            set(pids) - children))
    if len(versions) != 1:
        problems.append("more than one Python: %s" % versions)
    if any(a["interp_id"] == 0 for a in answers):
        problems.append("the group ran in the main interpreter")
    for pid, by_index in sorted(seen.items()):
        indices = sorted(by_index, key=lambda i: (i is None, i))
        if spec.interpreters is None:
            if not set(indices) <= {None, 0}:
                problems.append("pid %d: pool indices %s without a pool"
                                % (pid, indices))
            ids = set().union(*by_index.values())
            if len(ids) != 1:
                problems.append("pid %d: %d interpreters, expected 1"
                                % (pid, len(ids)))
        else:
            want = list(range(spec.interpreters))
            if indices != want:
                problems.append(
                    "pid %d: environ['mod_wsgi_lite.interpreter'] took "
                    "%s over %d requests at once, expected %s" % (
                        pid, indices, len(answers), want))
            for index, ids in by_index.items():
                if len(ids) != 1:
                    problems.append("pid %d: index %s in %d interpreters"
                                    % (pid, index, len(ids)))
            ids = set().union(*by_index.values())
            if len(ids) != len(by_index):
                problems.append("pid %d: %d indices in %d interpreters"
                                % (pid, len(by_index), len(ids)))
    # Python says whether an interpreter has its own GIL from 3.13 on
    # (None before: nothing to check).
    want_gil = "shared" if spec.interpreters is None else "own"
    wrong = [g for g in gils if g not in (want_gil, "None")]
    if wrong:
        problems.append("the interpreters' GIL is %s, expected %s"
                        % ("/".join(wrong), want_gil))
    if problems:
        raise run.server_failure(srv, "/interp: " + "; ".join(problems),
                                 args)
    return {
        "pids": len(pids),
        "interpreters": sum(len(set().union(*b.values()))
                            for b in seen.values()),
        "indices": sorted({i for b in seen.values() for i in b},
                          key=lambda i: (i is None, i)),
        "gil": [g for g in gils if g != "None"] or None,
        "version": versions[0],
        "prefix": prefixes[0] if len(prefixes) == 1 else prefixes,
    }


def module_libpython(path):
    """The libpython the module is linked with (readelf's NEEDED), or
    None."""
    out = run.command_output(["readelf", "-d", path])
    found = re.findall(r"\[(libpython[^\]]+)\]", out)
    return found[0] if found else None


def version_tuple(version):
    m = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


# --------------------------------------------------------------------------
# Bars and report
# --------------------------------------------------------------------------

def evaluate_bars(agg, python):
    """Issue 18's bars as (bar, measured, verdict): PASS, FAIL, or n/a
    (a server not run, or a Python without a per-interpreter GIL)."""
    old = version_tuple(python) is not None and version_tuple(python) < (3,
                                                                          12)
    bars = []

    def add(text, value, limit, at_least, shown=None):
        if value is None:
            verdict = "n/a"
        elif old:
            verdict = "n/a (Python %s: no per-interpreter GIL)" % python
        else:
            verdict = "PASS" if (value >= limit if at_least
                                 else value <= limit) else "FAIL"
        bars.append((text, "-" if value is None
                     else shown or run.fmt_ratio(value), verdict))

    def of(key, a, b, scenario):
        return run.ratio(run.med(agg, a, scenario, key),
                         run.med(agg, b, scenario, key))

    add("cpu: req/s of pool (B) >= 1.8x shared (A)",
        of("rate", "pool", "shared", "cpu"), 1.8, True)
    add("cpu: req/s of pool (B) >= 0.95x prefork2 (C)",
        of("rate", "pool", "prefork2", "cpu"), 0.95, True)
    add("cpu: server CPU per request of pool (B) <= 1.1x shared (A)",
        of("cpu_per", "pool", "shared", "cpu"), 1.1, False)
    add("hello: req/s of pool (B) >= prefork's (%d processes)"
        % run.PREFORK_PROCESSES, of("rate", "pool", "prefork", "hello"),
        1.0, True)
    # Not a bar: the same ratio for Apache alone, the event MPM's own
    # share of the one above.
    value = of("rate", "static", "static-prefork", "hello")
    bars.append(("(context, not a bar) hello: req/s of static Apache, "
                 "event against prefork", "-" if value is None
                 else run.fmt_ratio(value), "-"))
    return bars


def rss_summary(rss):
    """{pid: KiB} -> (children, sum, largest)."""
    values = [v for v in rss.values() if v]
    if not values:
        return {"children": len(rss), "sum_kib": None, "max_kib": None}
    return {"children": len(rss), "sum_kib": sum(values),
            "max_kib": max(values)}


def memory_figures(servers):
    """What one more interpreter of the pool costs, and its own GIL:
    differences of the children's RSS after the same warm-up."""
    def warm(kind):
        s = servers.get(kind)
        return s["rss_warm"]["sum_kib"] if s else None

    out = {}
    size = KINDS["pool"].interpreters
    if (warm("pool") is not None and warm("pool1") is not None
            and size > 1):
        out["per_interpreter_kib"] = ((warm("pool") - warm("pool1"))
                                      / (size - 1))
    if warm("pool1") is not None and warm("shared") is not None:
        out["own_gil_kib"] = warm("pool1") - warm("shared")
    if warm("pool") is not None and warm("shared") is not None:
        out["pool_over_shared_kib"] = warm("pool") - warm("shared")
    return out


def markdown(report):
    meta = report["meta"]
    agg = report["aggregate"]
    out = ["# mod_wsgi_lite pool benchmark (issue 18), %s%s" % (
        meta["date"], " (--quick: smoke run, not for comparison)"
        if meta["quick"] else ""), ""]
    out.append("`make bench-pool` (bench/pool.py): %s; wrk %s, -t1 -c%d, "
               "%d s per run, %d run(s) per cell, interleaved; pinning: "
               "%s; medians, ± half the range of the runs. Server CPU = "
               "user+system time of the Apache parent and children (/proc: "
               "%s), per request."
               % (meta["machine"], meta["wrk"], meta["connections"],
                  meta["duration"], meta["runs"], meta["pinning"],
                  meta.get("cpu_source")))
    out.append("Module: %s (%s; linked with %s). %s.%s"
               % (meta["module"], meta["git"], meta["libpython"] or "?",
                  meta["apache"],
                  " WSGISwitchInterval %g on every server."
                  % meta["switch_interval"]
                  if meta.get("switch_interval") else ""))
    out.append("")
    out.append("**Python: %s**, as every server embeds it (its own answer "
               "to /interp: `sys.version` %s, `sys.prefix` %s); every "
               "figure below was measured on it."
               % (meta["python"], meta["python_full"], meta["prefix"]))
    out.append("")
    out.append("## Servers")
    out.append("")
    out.append("Application group `%s` in each; interpreters and GIL as "
               "the %d requests sent at once to /interp found them; "
               "children's RSS (KiB, sum / largest child) after the same "
               "warm-up and at the end:" % (GROUP, INTERP_REQUESTS))
    out.append("")
    out.append("| server | role | MPM | the group | pool indices seen | "
               "interpreters seen | GIL | RSS after warm-up | RSS at the "
               "end |")
    out.append("|---|---|---|---|---|---:|---|---:|---:|")
    for kind, s in report["servers"].items():
        spec = KINDS[kind]
        it = s["interp"]
        if it is None:
            out.append("| %s | %s | %s | %s | - | - | - | %s / %s | "
                       "%s / %s |" % (
                           kind, spec.role, spec.shape, spec.pool,
                           run.fmt_num(s["rss_warm"]["sum_kib"]),
                           run.fmt_num(s["rss_warm"]["max_kib"]),
                           run.fmt_num(s["rss_end"]["sum_kib"]),
                           run.fmt_num(s["rss_end"]["max_kib"])))
            continue
        out.append("| %s | %s | %s | %s | %s | %d in %d process(es) | %s "
                   "| %s / %s | %s / %s |" % (
                       kind, spec.role, spec.shape, spec.pool,
                       ", ".join("-" if i is None else str(i)
                                 for i in it["indices"]),
                       it["interpreters"], it["pids"],
                       "/".join(it["gil"]) if it["gil"] else "?",
                       run.fmt_num(s["rss_warm"]["sum_kib"]),
                       run.fmt_num(s["rss_warm"]["max_kib"]),
                       run.fmt_num(s["rss_end"]["sum_kib"]),
                       run.fmt_num(s["rss_end"]["max_kib"])))
    mem = report["memory"]
    if mem:
        out.append("")
        parts = []
        if "per_interpreter_kib" in mem:
            parts.append("one interpreter of the pool costs %s KiB of RSS "
                         "(pool - pool1, the same warm-up)"
                         % run.fmt_num(mem["per_interpreter_kib"]))
        if "own_gil_kib" in mem:
            parts.append("a pool of 1 with its own GIL %s KiB more than "
                         "the shared-GIL interpreter (pool1 - shared)"
                         % run.fmt_num(mem["own_gil_kib"]))
        if "pool_over_shared_kib" in mem:
            parts.append("the pool of %d %s KiB more than shared"
                         % (KINDS["pool"].interpreters,
                            run.fmt_num(mem["pool_over_shared_kib"])))
        out.append("Memory: " + "; ".join(parts) + ".")
    out.append("")
    out.append("## Results")
    out.append("")
    out.append("Each server's pool and its children's RSS (KiB, all "
               "children, after the warm-up) beside its figures:")
    out.append("")
    out.append("| scenario | server | interpreters | RSS | req/s | "
               "p50 / p99 (ms) | server CPU (µs/req) | switches/req |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|")
    for sc in SCENARIOS:
        for kind in KINDS:
            cell = agg.get(kind, {}).get(sc.name)
            if not cell:
                continue
            spec = KINDS[kind]
            pool = (spec.pool if spec.processes == 1 or spec.static
                    else "%d processes x %s" % (spec.processes, spec.pool))
            out.append("| %s | %s (%s) | %s | %s | %s | %s / %s | %s | %s |"
                       % (sc.name, kind, spec.role, pool,
                          run.fmt_num(report["servers"][kind]["rss_warm"][
                              "sum_kib"]),
                          run.fmt_stat(cell["rate"]),
                          run.fmt_ms(run.med(agg, kind, sc.name, "p50_us")),
                          run.fmt_ms(run.med(agg, kind, sc.name, "p99_us")),
                          run.fmt_stat(cell["cpu_per"]),
                          run.fmt_num(run.med(agg, kind, sc.name,
                                              "switches_per_req"))))
    out.append("")
    out.append("## Bars (issue 18)")
    out.append("")
    out += run.bars_table(report["bars"])
    out += run.problems_list(report["problems"])
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def newest_build():
    """build/py3.X/mod_wsgi_lite.so of the newest 3.X >= 3.12 built, else
    .libs/'s (make bench-pool always names the one it built)."""
    found = []
    for path in glob.glob(os.path.join(run.TOP, "build", "py3.*",
                                       "mod_wsgi_lite.so")):
        v = version_tuple(os.path.basename(os.path.dirname(path))[2:])
        if v and v >= (3, 12):
            found.append((v, path))
    return max(found)[1] if found else run.LITE_SO


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Benchmark pools of sub-interpreters with their own "
                    "GIL (issue 18) against one shared-GIL interpreter "
                    "and prefork.")
    run.add_common_arguments(
        p, connections=16, module=newest_build(),
        module_help="the newest build/py3.X/ of 3.12 or later, else "
                    ".libs/'s: %(default)s")
    p.add_argument("--switch-interval", type=float, default=0.0,
                   metavar="SECONDS",
                   help="WSGISwitchInterval on every server (default: "
                        "none, Python's 0.005)")
    p.add_argument("--pool-size", type=int, default=POOL_SIZE,
                   metavar="N",
                   help="WSGIInterpreterCount of pool (B) (default: "
                        "%(default)s)")
    p.add_argument("--servers", default=",".join(KINDS),
                   help="comma-separated servers (default: all): "
                        + ",".join(KINDS))
    args = run.finish_common_args(p, p.parse_args(argv))
    # At most one interpreter per event thread: /interp's requests, one
    # per thread, must find every member of the pool.
    if not 1 <= args.pool_size <= run.EVENT_THREADS:
        p.error("--pool-size: 1 to %d, not %d" % (run.EVENT_THREADS,
                                                   args.pool_size))
    KINDS["pool"] = dataclasses.replace(KINDS["pool"],
                                        interpreters=args.pool_size)
    args.server_list = [s for s in args.servers.split(",") if s]
    for s in args.server_list:
        if s not in KINDS:
            p.error("unknown server %r (%s)" % (s, ", ".join(KINDS)))
    if not any(KINDS[s].wsgi for s in args.server_list):
        p.error("--servers: at least one server with Python (the report "
                "names the Python the figures were measured on)")
    return args


def run_servers(args, rundir, htdocs, report):
    """Start the servers, check them, warm up, time the cells, stop them;
    fills report's servers, runs and problems."""
    problems = report["problems"]
    started = []
    try:
        for kind in (k for k in KINDS if k in args.server_list):
            spec = KINDS[kind]
            run.start_server(run.Server(kind, spec.mpm, rundir, args,
                                        config=pool_config,
                                        processes=spec.processes),
                             started, run.log)
        run.check_servers(started, SCENARIOS, htdocs, args)
        for srv in started:
            report["servers"][srv.kind] = {
                "interp": check_interpreters(srv, args)
                if KINDS[srv.kind].wsgi else None}
            run.log("%s: %s" % (srv.kind, report["servers"][srv.kind]))
        run.log("all responses checked (status, length, sha256; each "
                "server's interpreters as its configuration says)")
        luas = {sc.name: run.write_lua(rundir, sc, htdocs)
                for sc in SCENARIOS}
        run.warm_up([(sc, started) for sc in SCENARIOS], luas, args)
        run.log("warmed up (%d s per scenario and server)" % args.warmup)
        for srv in started:
            report["servers"][srv.kind]["rss_warm"] = rss_summary(
                srv.rss_kib())
        by_kind = {srv.kind: srv for srv in started}
        cells = [(sc, [by_kind[k] for k in kinds if k in by_kind])
                 for sc, kinds in CELLS]
        report["runs"] = run.timed_runs([c for c in cells if c[1]], luas,
                                        args, htdocs, problems, run.log)
        for srv in started:
            report["servers"][srv.kind]["rss_end"] = rss_summary(
                srv.rss_kib())
        run.error_problems(started, problems, EXPECTED_ERRORS)
    finally:
        run.stop_servers(started)


def main(argv):
    args = parse_args(argv)
    run.check_tools(args)
    if not os.path.isfile(args.module):
        sys.exit("bench: %s not built (make bench-pool builds it)"
                 % args.module)
    run.prepare_run(args)
    t0 = time.monotonic()
    rundir = tempfile.mkdtemp(prefix="wsl-bench.")
    try:
        htdocs = run.fill_rundir(rundir, [], run.log)
        write_cpu_twin(rundir, htdocs)
        now = datetime.datetime.now(datetime.timezone.utc)
        meta = run.common_meta(args, now)
        meta["libpython"] = module_libpython(args.module)
        meta["pool_size"] = KINDS["pool"].interpreters
        meta["switch_interval"] = args.switch_interval
        meta["cpu_body"] = dict(zip(("bytes", "sha256"), run.expected_digest(
            htdocs, CPU.static)))
        report = {"meta": meta, "servers": {}, "runs": {}, "problems": []}
        if (args.server_cpus is not None
                and len(args.server_cpus.split(",")) < 2):
            report["problems"].append(
                "--pin: Apache on CPU %s only, where the pool's %d "
                "interpreters cannot run at once (nor prefork2's "
                "processes): the cpu bars measure nothing there"
                % (args.server_cpus, KINDS["pool"].interpreters))
        run_servers(args, rundir, htdocs, report)
    finally:
        if args.keep:
            run.log("kept %s" % rundir)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
    interps = [s["interp"] for s in report["servers"].values()
               if s["interp"]]
    versions = sorted({it["version"] for it in interps})
    if len(versions) != 1:
        raise RuntimeError("the servers embed different Pythons: %s"
                           % versions)
    meta["python_full"] = versions[0]
    meta["python"] = versions[0].split()[0]
    meta["prefix"] = interps[0]["prefix"]
    report["aggregate"] = run.aggregate(report["runs"])
    report["bars"] = evaluate_bars(report["aggregate"], meta["python"])
    report["memory"] = memory_figures(report["servers"])
    meta["elapsed_s"] = round(time.monotonic() - t0, 1)
    meta["cpu_source"] = run.cpu_source(
        [m for per in report["runs"].values() for ms in per.values()
         for m in ms])
    text = markdown(report)
    text += "\nRun took %d s.\n" % meta["elapsed_s"]
    print(text)
    run.save_report(args, now, "-pool", text, report)
    failed = [b for b in report["bars"] if b[2] == "FAIL"]
    run.log("%d bar(s) failed" % len(failed) if failed
            else "no bar failed")
    return 0


if __name__ == "__main__":
    run.run_main(main)
