#!/usr/bin/python3
"""soak/daemon.py: make soak's daemon-mode run (make soak-daemon alone).

The same private Apache (event MPM) and the same checking client as
soak/run.py, with the applications in a daemon process group:

    WSGIDaemonProcess soak processes=2 threads=16 maximum-requests=500
        memory-limit=100 MiB request-timeout=5 graceful-timeout=15
        shutdown-timeout=5 stack-size=512 KiB display-name=(wsgi-soak)

run once against mod_wsgi_lite and once against Debian's mod_wsgi
(libapache2-mod-wsgi-py3, when installed), same configuration, same
requests, one after the other, and reported side by side:

- SOAK_DAEMON_REQUESTS (default 200,000) requests from 8 clients, each on
  a kept connection: soak/run.py's mix (hello, 1 MiB responses, POSTs
  whose bodies the app reads, 1 MiB POSTs, streamed responses, failing
  applications, clients that go mid-response) with two kinds whose harm
  is on purpose: 'leak' (1 in 100: keeps 16 MiB for the life of the
  process, against memory-limit) and 'hang' (1 in SOAK_DAEMON_HANG_EVERY,
  default 5,000: sleeps 30 s, against request-timeout);
- meanwhile, spread over the run, five Apache graceful restarts (SIGUSR1
  to the parent) and five recycles of a daemon process (SIGUSR1 to it,
  mod_wsgi's "restart this process gracefully"), one every eleventh of
  the requests;
- the daemons' resident memory sampled every second;
- at the end, SIGTERM to the parent: the time until it and every daemon
  are gone.

Judged for mod_wsgi_lite (mod_wsgi's figures are reported, not judged):
zero failed or truncated responses among the requests the scenario did
not harm on purpose; every leak request answered 200 (the process is
recycled, replacement first, before memory runs out); every hang answered
504 after request-timeout; every graceful restart and recycle done; the
daemons' memory bounded (no process past one and a half times
memory-limit by more than a few leaks: past that it stops taking
requests; the summed RSS by quarter is reported, not judged: recycling
every few hundred requests makes it a saw-tooth); streams' close()
all run; every failing application logged once; the stop done within
shutdown-timeout and a margin.

A kept connection that Apache closes (at a graceful restart, idle
connections are closed) just as the client sends its next request on it
gives the client no byte of a response: the request is then sent again
once on a new connection, as HTTP/1.1 clients do, and counted ('retried'
in the report), for both servers alike.

Writes soak/results/<UTC date>-daemon.md; exits non-zero if a check
failed.  Environment: SOAK_DAEMON_REQUESTS, SOAK_DAEMON_HANG_EVERY,
SOAK_DAEMON_MAX_SECONDS (bound of each server's run, default 900),
SOAK_DAEMON_SERVERS (default "mod_wsgi_lite,mod_wsgi"), SOAK_KEEP,
SOAK_RESULTS, SOAK_MODULE, APACHE as for soak/run.py.
"""
import asyncio
import datetime
import hashlib
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (soak/run.py: server, client, checks)

REQUESTS = base.env_int('SOAK_DAEMON_REQUESTS', 200000)
HANG_EVERY = base.env_int('SOAK_DAEMON_HANG_EVERY', 5000)
MAX_SECONDS = base.env_int('SOAK_DAEMON_MAX_SECONDS', 900)
SERVERS = (os.environ.get('SOAK_DAEMON_SERVERS')
           or 'mod_wsgi_lite,mod_wsgi').split(',')
CLIENTS = 8
MOD_WSGI_SO = os.path.join(base.MODULES, 'mod_wsgi.so')

LEAK_MIB = 16
MEMORY_LIMIT = 100 << 20
REQUEST_TIMEOUT = 5
SHUTDOWN_TIMEOUT = 5
HANG_SECONDS = 30
DISPLAY_NAME = '(wsgi-soak)'
DAEMON_OPTIONS = (f'processes=2 threads=16 maximum-requests=500 '
                  f'memory-limit={MEMORY_LIMIT} '
                  f'request-timeout={REQUEST_TIMEOUT} graceful-timeout=15 '
                  f'shutdown-timeout={SHUTDOWN_TIMEOUT} stack-size=524288 '
                  f'display-name={DISPLAY_NAME}')

# Per 100 requests: soak/run.py's mix, one error less for the leak.
MIX = [('hello', 62), ('big', 4), ('post', 15), ('post1m', 1),
       ('stream', 3), ('error', 9), ('disconnect', 5), ('leak', 1)]
assert sum(n for _k, n in MIX) == 100
SCHEDULE = [kind for kind, n in MIX for _ in range(n)]
ON_PURPOSE = ('leak', 'hang')


def kind_of(i):
    if HANG_EVERY and i % HANG_EVERY == HANG_EVERY // 2:
        return 'hang'
    return SCHEDULE[(i * 37) % 100]


class DaemonServer(base.Server):
    """soak/run.py's server, its applications in one daemon group, with
    mod_wsgi_lite or Debian's mod_wsgi loaded."""

    # Up to 4 children: a graceful restart's new generation starts while
    # the old one finishes its connections.
    server_limit = 4

    def __init__(self, kind):
        self.kind = kind
        self.generator = f'soak/daemon.py ({kind})'
        super().__init__()

    def module_conf(self):
        return (f'LoadModule wsgi_lite_module {base.SO}'
                if self.kind == 'mod_wsgi_lite'
                else f'LoadModule wsgi_module {MOD_WSGI_SO}')

    def apps_conf(self):
        return f"""WSGISocketPrefix "{self.dir}/wsgi"
WSGIDaemonProcess soak {DAEMON_OPTIONS}
WSGIProcessGroup soak
WSGIApplicationGroup %{{GLOBAL}}
""" + base.script_aliases('hello', 'big', 'echo', 'stream', 'leak', 'hang') + \
            f'SetEnv SOAK_EVENTS "{self.events}"\n'

    def start(self):
        super().start()
        deadline = time.time() + 30
        while time.time() < deadline and len(self.daemons()) < 2:
            time.sleep(0.1)

    def daemons(self):
        """Live daemon processes of the group (by display-name)."""
        out = []
        for pid in self.children():
            try:
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    if DISPLAY_NAME.encode() in f.read():
                        out.append(pid)
            except OSError:
                pass
        return out

    def daemon_rss(self):
        """{pid: VmRSS kB} of the daemons."""
        return {pid: kb for pid, kb in self.rss().items()
                if pid in set(self.daemons())}


def expected(kind, st, body, ok):
    """None if the response to a leak or hang request is as the scenario
    wants of mod_wsgi_lite, else what it was."""
    if kind == 'leak':
        good = st == 200 and ok and body.startswith(b'leaked ')
    else:
        good = st == 504
    return None if good else f'{kind}: {st} {body[:60]!r}'


class Run:
    """One server's run: the requests, the events, the samples."""

    def __init__(self, server):
        self.server = server
        self.next = self.done = 0
        self.failures = []            # (i, why): not harmed on purpose
        self.purpose = {k: {} for k in ON_PURPOSE}   # outcome: count
        self.purpose_bad = []         # (i, why): not as mod_wsgi_lite's
        self.counts = {}
        self.retried = 0
        self.events = []              # (what, at request, secs, ok, note)
        self.samples = []             # (secs, done, {pid: kB})
        self.daemon_pids = set()
        self.hang_secs = []
        self.stopping = False

    async def request(self, conn, kind, i):
        if kind in ON_PURPOSE:
            path = f'/leak?{LEAK_MIB}' if kind == 'leak' else \
                f'/hang?{HANG_SECONDS}'
            t = time.time()
            st, h, body, ok = await conn.request('GET', path)
            if kind == 'hang':
                self.hang_secs.append(time.time() - t)
            outcome = f'{st}' + ('' if ok else ' truncated')
            self.purpose[kind][outcome] = \
                self.purpose[kind].get(outcome, 0) + 1
            why = expected(kind, st, body, ok)
            if why:
                self.purpose_bad.append((i, why))
            return None
        return await base.one_request(conn, kind, i)

    async def worker(self):
        conn = base.Conn(self.server.port)
        conn.used = 0
        deadline = self.t0 + MAX_SECONDS
        while self.next < REQUESTS and time.time() < deadline:
            i = self.next
            self.next += 1
            kind = kind_of(i)
            why = None
            for attempt in (0, 1):
                reused = conn.writer is not None and conn.used > 0
                try:
                    why = await asyncio.wait_for(self.request(conn, kind, i),
                                                 120)
                    conn.used = conn.used + 1 if conn.writer else 0
                    break
                except (base.Failure, OSError, asyncio.TimeoutError,
                        asyncio.IncompleteReadError) as e:
                    conn.close()
                    conn.used = 0
                    why = f'{kind}: {type(e).__name__}: {e}'
                    # No byte of a response on a kept connection: Apache
                    # closed it as the request went (HTTP/1.1 lets the
                    # client send it again).
                    clean = (isinstance(e, (ConnectionResetError,
                                            BrokenPipeError))
                             or str(e).endswith('status line (0 bytes)'))
                    if attempt or not reused or not clean:
                        if kind in ON_PURPOSE:
                            self.purpose[kind][why] = \
                                self.purpose[kind].get(why, 0) + 1
                            self.purpose_bad.append((i, why))
                            why = None
                        break
                    self.retried += 1
            if why:
                conn.close()
                conn.used = 0
                self.failures.append((i, why))
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.done += 1
        conn.close()

    def log_count(self, text):
        return self.server.log_text().count(text)

    async def graceful_restart(self):
        before = self.log_count('resuming normal operations')
        t = time.time()
        for _attempt in range(3):
            # A signal that comes while Apache still starts the previous
            # generation is dropped: send it again then.
            os.kill(self.server.pid, signal.SIGUSR1)
            deadline = time.time() + 20
            while (time.time() < deadline and
                   self.log_count('resuming normal operations') <= before):
                await asyncio.sleep(0.1)
            if self.log_count('resuming normal operations') > before:
                return True, time.time() - t, ''
        return False, time.time() - t, 'no new generation in 60 s'

    async def recycle(self):
        pids = self.server.daemons()
        if not pids:
            return False, 0.0, 'no daemon process found'
        pid = min(pids)
        t = time.time()
        os.kill(pid, signal.SIGUSR1)
        deadline = time.time() + 40
        while time.time() < deadline and pid in self.server.daemons():
            await asyncio.sleep(0.1)
        gone = pid not in self.server.daemons()
        return gone, time.time() - t, f'pid {pid}' + (
            '' if gone else ' still there after 40 s')

    async def conductor(self):
        """Ten events, one each eleventh of the requests: a graceful
        restart, then a recycle, in turn."""
        for k in range(10):
            at = REQUESTS * (k + 1) // 11
            while self.done < at and self.next < REQUESTS and \
                    time.time() < self.t0 + MAX_SECONDS:
                await asyncio.sleep(0.05)
            if self.next >= REQUESTS or time.time() >= self.t0 + MAX_SECONDS:
                break
            what = 'graceful restart' if k % 2 == 0 else 'recycle'
            ok, secs, note = await (self.graceful_restart() if k % 2 == 0
                                    else self.recycle())
            self.events.append((what, self.done, secs, ok, note))

    async def sampler(self):
        while not self.stopping:
            rss = self.server.daemon_rss()
            self.daemon_pids.update(rss)
            self.samples.append((time.time() - self.t0, self.done, rss))
            await asyncio.sleep(1.0)

    async def run(self):
        self.t0 = time.time()
        sampler = asyncio.ensure_future(self.sampler())
        await asyncio.gather(self.conductor(),
                             *(self.worker() for _ in range(CLIENTS)))
        self.elapsed = time.time() - self.t0
        self.stopping = True
        await sampler


def quarters(samples):
    """Mean summed daemon RSS (kB) of each quarter of the samples."""
    pts = [sum(r.values()) for _s, _n, r in samples if r]
    if len(pts) < 4:
        return [sum(pts) / len(pts)] * 4 if pts else [0] * 4
    q = len(pts) // 4
    return [sum(pts[j * q:(j + 1) * q]) / q for j in range(4)]


def stop_time(server):
    """SIGTERM to the parent: seconds until it and its daemons are gone."""
    daemons = server.daemons()
    t = time.time()
    os.kill(server.pid, signal.SIGTERM)
    deadline = t + 60
    while time.time() < deadline and (
            server.alive() or any(os.path.exists(f'/proc/{p}')
                                  and not zombie(p) for p in daemons)):
        time.sleep(0.05)
    return time.time() - t, not server.alive() and not any(
        os.path.exists(f'/proc/{p}') and not zombie(p) for p in daemons)


def zombie(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
        return stat[stat.rindex(')') + 2] == 'Z'
    except OSError:
        return True


def one_server(kind):
    server = DaemonServer(kind)
    r = Run(server)
    try:
        server.start()
        print(f'{kind}: apache pid {server.pid} port {server.port}; '
              f'daemons {server.daemons()}')
        asyncio.run(r.run())
        # close() of abandoned streams may run a moment later.
        deadline = time.time() + 30
        starts, closes = server.events_count()
        while starts != closes and time.time() < deadline:
            time.sleep(0.5)
            starts, closes = server.events_count()
        r.streams = (starts, closes)
        log = server.log_text()
        r.crashes = base.CRASH_RE.findall(log)
        r.errors_logged = len(re.findall(r"WSL00010: [^\n]*'/errors/", log))
        r.reasons = {
            'maximum-requests': len(re.findall(
                r'stopping \(maximum-requests=\d+ reached', log)),
            'memory-limit': len(re.findall(
                r'stopping \(memory-limit=\d+ passed', log)),
            'request-timeout': len(re.findall(r'WSL00201', log)),
        } if kind == 'mod_wsgi_lite' else {
            # It says so once per request past the limit: its processes.
            'maximum-requests': len(set(re.findall(
                r'mod_wsgi \(pid=(\d+)\): Maximum requests reached', log))),
            # An rlimit (RLIMIT_DATA): allocations fail instead.
            'memory-limit': len(re.findall(r'MemoryError', log)),
            'request-timeout': len(set(re.findall(
                r'mod_wsgi \(pid=(\d+)\): Daemon process request time '
                r'limit exceeded', log))),
        }
        r.stop_secs, r.stopped = stop_time(server)
        print(f'  {r.done} requests in {r.elapsed:.0f} s; '
              f'{len(r.failures)} unexpected; retried {r.retried}; '
              f'leak {r.purpose["leak"]}; hang {r.purpose["hang"]}; '
              f'events {[(e[0], e[3]) for e in r.events]}; '
              f'stop {r.stop_secs:.1f} s')
        for i, why in r.failures[:10]:
            print(f'  request {i} ({kind_of(i)}): {why}')
    finally:
        server.cleanup()
    return r


def verdict(r):
    """(passed, [reasons it did not]) for mod_wsgi_lite's run."""
    why = []
    # A process stops taking requests once past half as much again as
    # memory-limit (process.c), checked every tenth of a second: a few
    # leaks more may come in that tenth.
    lim_kb = (MEMORY_LIMIT >> 10) * 3 // 2 + 3 * (LEAK_MIB << 10) + 16 * 1024
    peak = max((kb for _s, _n, rss in r.samples for kb in rss.values()),
               default=0)
    if r.done != REQUESTS:
        why.append(f'{r.done} of {REQUESTS} requests in {MAX_SECONDS} s')
    if r.failures:
        why.append(f'{len(r.failures)} unexpected responses')
    if r.purpose_bad:
        why.append(f'{len(r.purpose_bad)} leak or hang requests not '
                   f'answered as expected')
    if len(r.events) != 10 or not all(e[3] for e in r.events):
        why.append('a graceful restart or recycle not done')
    if peak > lim_kb:
        why.append(f'a daemon reached {peak} kB')
    if r.streams[0] != r.streams[1]:
        why.append(f'streams: {r.streams[0]} begun, {r.streams[1]} closed')
    if r.errors_logged != r.counts.get('error', 0):
        why.append(f'{r.errors_logged} WSL00010 entries for '
                   f'{r.counts.get("error", 0)} failing applications')
    if r.crashes:
        why.append(f'{len(r.crashes)} crash lines in the log')
    if not r.stopped or r.stop_secs > SHUTDOWN_TIMEOUT + 5:
        why.append(f'stop took {r.stop_secs:.1f} s')
    return not why, why


def by_kind(failures):
    """{kind: count} of the requests in failures."""
    out = {}
    for i, _why in failures:
        out[kind_of(i)] = out.get(kind_of(i), 0) + 1
    return out


def report(runs, passed, why_not):
    now = datetime.datetime.now(datetime.timezone.utc)
    rev = subprocess.run(['git', '-C', base.TOP, 'rev-parse', '--short',
                          'HEAD'], capture_output=True, text=True).stdout
    names = list(runs)
    L = []
    L.append(f'# Daemon-mode soak {now:%Y-%m-%d %H:%M} UTC')
    L.append('')
    L.append(f'Commit {rev.strip()} (plus uncommitted changes, if any); '
             f'{base.APACHE}, event MPM; {os.cpu_count()} cores. '
             f'`WSGIDaemonProcess soak {DAEMON_OPTIONS}`, the same for '
             f'each server, run one after the other. {CLIENTS} clients on '
             f'kept connections; mix per 100: '
             + ', '.join(f'{k} {n}' for k, n in MIX)
             + f'; a hang ({HANG_SECONDS} s sleep) every {HANG_EVERY}; '
             f'leak = {LEAK_MIB} MiB kept per request. Five Apache graceful '
             f'restarts and five SIGUSR1 recycles of a daemon, one every '
             f'eleventh of the requests.')
    L.append('')
    L.append(f'mod_wsgi_lite: **{"PASS" if passed else "FAIL"}**'
             + ('' if passed else ' (' + '; '.join(why_not) + ')')
             + '. mod_wsgi is reported, not judged.')
    L.append('')
    L.append('| | ' + ' | '.join(names) + ' |')
    L.append('|---|' + '---|' * len(names))

    def row(label, fn):
        L.append(f'| {label} | ' + ' | '.join(str(fn(runs[n]))
                                             for n in names) + ' |')

    row('requests done', lambda r: f'{r.done} in {r.elapsed:.0f} s '
        f'({r.done / max(r.elapsed, 1e-9):.0f}/s)')
    row('**failed or truncated, not on purpose**',
        lambda r: f'**{len(r.failures)}**')
    row('of which, by kind', lambda r: ', '.join(
        f'{k} {v}' for k, v in sorted(by_kind(r.failures).items())) or '-')
    row('sent again (kept connection closed, no byte back)',
        lambda r: r.retried)
    row(f'leak requests ({LEAK_MIB} MiB each): outcomes',
        lambda r: ', '.join(f'{k} x{v}' for k, v in
                            sorted(r.purpose['leak'].items())))
    row(f'hang requests ({HANG_SECONDS} s): outcomes',
        lambda r: ', '.join(f'{k} x{v}' for k, v in
                            sorted(r.purpose['hang'].items())))
    row('hang requests: seconds to the answer (min-max)',
        lambda r: (f'{min(r.hang_secs):.1f}-{max(r.hang_secs):.1f}'
                   if r.hang_secs else '-'))
    row('graceful restarts done (seconds each)', lambda r: ', '.join(
        f'{e[2]:.1f}' + ('' if e[3] else ' FAILED')
        for e in r.events if e[0] == 'graceful restart'))
    row('SIGUSR1 recycles done (seconds each)', lambda r: ', '.join(
        f'{e[2]:.1f}' + ('' if e[3] else ' FAILED')
        for e in r.events if e[0] == 'recycle'))
    row('log: maximum-requests / memory-limit / request-timeout',
        lambda r: ' / '.join(str(r.reasons[k]) for k in (
            'maximum-requests', 'memory-limit', 'request-timeout')))
    row('daemon processes seen', lambda r: len(r.daemon_pids))
    row('daemon RSS, one process, peak kB', lambda r: max(
        (kb for _s, _n, rss in r.samples for kb in rss.values()), default=0))
    row('daemons\' RSS summed, mean by quarter of the run, kB',
        lambda r: ' / '.join(f'{x:.0f}' for x in quarters(r.samples)))
    row('streams begun / close() run', lambda r: f'{r.streams[0]} / '
        f'{r.streams[1]}')
    row('crash lines in the log', lambda r: len(r.crashes))
    row('first crash line', lambda r: (r.crashes[0].strip()[:160].replace(
        '|', '/') if r.crashes else '-'))
    row('stop (SIGTERM to the parent) until every daemon is gone',
        lambda r: f'{r.stop_secs:.1f} s' + ('' if r.stopped else
                                            ' (not all gone)'))
    L.append('')
    for n in names:
        r = runs[n]
        if r.failures or r.purpose_bad:
            # The first of each kind (and of each failing application).
            firsts, seen = [], set()
            for i, why in r.failures + r.purpose_bad:
                key = (kind_of(i), why.split(':')[0])
                if key not in seen:
                    seen.add(key)
                    firsts.append((i, why))
            L.append(f'{n}, the first unexpected of each kind:')
            for i, why in firsts[:20]:
                L.append(f'- request {i} ({kind_of(i)}): '
                         + why.replace('|', '/')[:200])
            L.append('')
    text = '\n'.join(L) + '\n'
    out = os.environ.get('SOAK_RESULTS') or os.path.join(
        base.TOP, 'soak', 'results', f'{now:%Y-%m-%d}-daemon.md')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        f.write(text)
    print(text)
    print(f'results: {out}')


def main():
    if not os.path.exists(base.SO):
        raise SystemExit(f'{base.SO} not found: run make first')
    runs = {}
    for kind in SERVERS:
        if kind == 'mod_wsgi' and not os.path.exists(MOD_WSGI_SO):
            print(f'{MOD_WSGI_SO} not installed: mod_wsgi left out')
            continue
        runs[kind] = one_server(kind)
    passed, why_not = (verdict(runs['mod_wsgi_lite'])
                       if 'mod_wsgi_lite' in runs else (True, []))
    report(runs, passed, why_not)
    print('soak-daemon: ' + ('passed' if passed else
                             'FAILED: ' + '; '.join(why_not)))
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
