#!/usr/bin/python3
"""soak/run.py: long, bounded reliability runs of mod_wsgi_lite (make soak).

Starts a private Apache (event MPM, .libs/mod_wsgi_lite.so, a generated
config in a temporary directory, stopped by its pid) and runs these
phases, each checking every response it gets:

1. soak: SOAK_REQUESTS (default 200,000) requests of mixed kinds (hello,
   1 MiB responses, POSTs whose bodies the app reads, 1 MiB POSTs,
   streamed responses, applications that fail with a 500, clients that
   disconnect mid-response).  The
   children's VmRSS is sampled every SOAK_SAMPLE requests after
   SOAK_WARMUP; pass: RSS growth below 2 MB per 100,000 requests, zero
   unexpected outcomes, every streamed response's close() ran, every
   failure logged once, no child died.
1b. hostile: SOAK_HOSTILE_REQUESTS (default half of SOAK_REQUESTS) of the
   same mix with the 'hostile' kind in it (5 per 100, from hello; see
   HOSTILE and HOSTILE_MIX), judged on its own, so that phase 1's verdict
   is what it was before: every response as expected (the hostile ones as
   HOSTILE says), no "exit signal", "Segmentation fault" or "Fatal Python
   error" in the log, same children, RSS growth below the same bar (judged
   from 50,000 requests after its warm-up, as in phase 1).  A hostile
   application that leaves a request unanswered is not asked again, and
   the server is restarted before phase 2.  'hostile' can also be put in
   SOAK_MIX: phase 1 then judges it on a line of its own as well.
2. app faults: each bad application of t/htdocs/errors/ SOAK_FAULT_REPEAT
   (default 1,000) times, 8 clients at a time; pass: each answered as
   expected and logged once, RSS flat (< 2 MB over the phase), no child died.
3. graceful restart under load: SIGUSR1 five times while 8 clients run
   (a new connection per request); pass: zero failed or truncated responses
   (status, Content-Length or chunk framing, SHA-256 of the body).
4. graceful stop: SIGWINCH while streamed responses are in flight; pass:
   every one completes in full, then the server exits.

Writes soak/results/<UTC date>.md and exits non-zero if a check failed.
Python 3 standard library only; run with /usr/bin/python3.

Environment: SOAK_REQUESTS, SOAK_WARMUP, SOAK_SAMPLE, SOAK_CONCURRENCY,
SOAK_MIX, SOAK_FAULT_REPEAT, SOAK_MAX_SECONDS (bound of phase 1 and of 1b,
default 1500), SOAK_HOSTILE_REQUESTS, SOAK_HOSTILE_MIX,
SOAK_HOSTILE (the hostile applications to cycle through, default all of
HOSTILE: cached_list,close_write,...), SOAK_HOSTILE_TIMEOUT (bound of one
hostile request with its follow-up, default 15 s; one that times out
is not asked again, and the server is restarted before phase 2),
SOAK_GROWTH_LIMIT_MB (the RSS bar, default 2.0),
SOAK_KEEP=1 (keep the temporary directory), SOAK_RESULTS (the
results file), SOAK_MODULE (another build of the module, e.g.
build/tsan/pyX.Y/mod_wsgi_lite.so), APACHE (default
/usr/sbin/apache2; or a wrapper that execs it).
"""
import asyncio
import datetime
import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(TOP, 'soak', 'apps')
ERRORS = os.path.join(TOP, 't', 'htdocs', 'errors')
SO = os.environ.get('SOAK_MODULE') or os.path.join(TOP, '.libs',
                                                 'mod_wsgi_lite.so')
MODULES = '/usr/lib/apache2/modules'
APACHE = os.environ.get('APACHE', '/usr/sbin/apache2')


def env_int(name, default):
    return int(os.environ.get(name, default))


REQUESTS = env_int('SOAK_REQUESTS', 200000)
WARMUP = env_int('SOAK_WARMUP', max(1, REQUESTS // 10))
SAMPLE = env_int('SOAK_SAMPLE', max(1, REQUESTS // 40))
CONCURRENCY = env_int('SOAK_CONCURRENCY', 16)
FAULT_REPEAT = env_int('SOAK_FAULT_REPEAT', 1000)
MAX_SECONDS = env_int('SOAK_MAX_SECONDS', 1500)
# Per 100,000 requests (and for phase 2 in all).  make tsan-soak raises it
# (SOAK_GROWTH_LIMIT_MB): TSan's shadow memory is in every child's RSS.
GROWTH_LIMIT_MB = float(os.environ.get('SOAK_GROWTH_LIMIT_MB') or 2.0)
# Below this many requests after warm-up, the growth is reported but not
# judged: a smoke run measures mostly the warm-up's tail.
GROWTH_MIN_SPAN = 50000

BIG = bytes(range(256)) * 4096                  # big.wsgi's body
BIG_SHA = hashlib.sha256(BIG).hexdigest()
PATTERN = bytes(range(256)) * 256               # stream.wsgi's block

# Bad applications: (URI, expected outcome).  'truncated': the body had
# started, so a 500 is impossible; the response must be visibly cut short.
# 'close_error': the body is complete, close() raises afterwards.
BAD_APPS = [
    ('/errors/raise.wsgi', 500),
    ('/errors/iter_error.wsgi', 'truncated'),
    ('/errors/close_error.wsgi', 'close_error'),
    ('/errors/no_start.wsgi', 500),
    ('/errors/start_twice.wsgi', 500),
    ('/errors/status.wsgi?no_reason', 500),
    ('/errors/status.wsgi?crlf', 500),
    ('/errors/header.wsgi?space_name', 500),
    ('/errors/header.wsgi?crlf_value', 500),
    ('/errors/str.wsgi', 500),
    ('/errors/str_list.wsgi', 500),
    ('/errors/yield_str.wsgi', 500),
    ('/errors/none.wsgi', 500),
]
SOAK_ERRORS = [u for u, want in BAD_APPS if want == 500]

# The hostile kind cycles through these applications of apps/hostile.wsgi,
# each with what the client expects (some of it is the behaviour of fixes
# under way, so today's module may fail them: they are reported as
# failures on the hostile line of phase 1).
HOSTILE = {
    # A module-level list of 8 x 128 KiB bytes objects whose items a
    # background thread keeps replacing (equal content, new objects; the
    # old ones freed): 200, the body's SHA-256 that the app computed before
    # returning (X-Body-SHA256), and that is the list's known content.
    'cached_list': 'cached list: 200, body SHA-256 = X-Body-SHA256',
    # close() of the iterable calls write(): the body is the real one,
    # write() raised RuntimeError (asked on the same connection, which
    # must still be open and in step).
    'close_write': 'write() in close(): RuntimeError, connection in step',
    # A thread calls wsgi.input.read() and write() after the response: the
    # response is complete (and the next requests on the connection are
    # the other kinds', checked as usual); outcomes reported, not judged.
    'thread_io': 'read()/write() from a thread after the response: 200',
    # start_response(..., exc_info=(None, None, None)) on the first call:
    # nothing was raised, nothing is sent yet: a normal 200.
    'exc_info_none': 'exc_info=(None, None, None): 200',
    # exc_info=(1, 2, 3) on the first call: a 200 (nothing to re-raise
    # before headers are sent) or a 500, never a crash.
    'exc_info_ints': 'exc_info=(1, 2, 3): 200 or 500',
    # Content-Length 5 and Content-Length 7: 500.
    'dup_cl': 'two conflicting Content-Lengths: 500',
    # wsgi.file_wrapper over /dev/zero with Content-Length 1 MiB: exactly
    # 1 MiB of zeros, then a /hello on the same connection.
    'devzero': 'file_wrapper(/dev/zero), Content-Length 1 MiB: 1 MiB, '
               'connection reusable',
}
HOSTILE_RUN = [h for h in (os.environ.get('SOAK_HOSTILE') or
                           ','.join(HOSTILE)).split(',') if h]
for _h in HOSTILE_RUN:
    if _h not in HOSTILE:
        raise SystemExit(f'SOAK_HOSTILE: no hostile application {_h!r} '
                         f'(known: {", ".join(HOSTILE)})')
HOSTILE_TIMEOUT = env_int('SOAK_HOSTILE_TIMEOUT', 15)
HOSTILE_ITEM = 128 * 1024                        # hostile.wsgi's CONTENT
HOSTILE_CACHED_SHA = hashlib.sha256(b''.join(
    bytes([(k * 37 + j) & 0xff for j in range(256)]) * (HOSTILE_ITEM // 256)
    for k in range(8))).hexdigest()
# Where a child crashed: the judgement of the hostile line.
CRASH_RE = re.compile(r'.*(?:exit signal|Segmentation fault|'
                      r'Fatal Python error).*')


# --- the server -----------------------------------------------------------
class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='wsl-soak-')
        os.chmod(self.dir, 0o777)
        self.events = os.path.join(self.dir, 'events')
        self.hostile_events = os.path.join(self.dir, 'hostile_events')
        self.log = os.path.join(self.dir, 'error_log')
        self.pidfile = os.path.join(self.dir, 'httpd.pid')
        self.conf = os.path.join(self.dir, 'httpd.conf')
        self.port = free_port()
        self.pid = None
        user = ''
        if os.getuid() == 0:
            # Children of a root-started Apache need a user; www-data must
            # be able to write the events file.
            pw = pwd.getpwnam('www-data')
            user = 'User www-data\nGroup www-data\n'
            for path in (self.events, self.hostile_events):
                open(path, 'wb').close()
                os.chown(path, pw.pw_uid, pw.pw_gid)
        with open(self.conf, 'w') as f:
            f.write(f"""# generated by {self.generator}
ServerRoot "{self.dir}"
DefaultRuntimeDir "{self.dir}"
PidFile "{self.pidfile}"
ErrorLog "{self.log}"
LogLevel info
ServerName localhost
Listen 127.0.0.1:{self.port}
{user}LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule env_module {MODULES}/mod_env.so
LoadModule alias_module {MODULES}/mod_alias.so
{self.module_conf()}
TypesConfig /etc/mime.types
# Children that live for the whole run (no idle-spare reaping, no
# MaxConnectionsPerChild), so their RSS can be followed.
StartServers 2
ServerLimit {self.server_limit}
ThreadsPerChild 25
MinSpareThreads 2
MaxSpareThreads {self.server_limit * 25}
MaxRequestWorkers {self.server_limit * 25}
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 100
GracefulShutdownTimeout 60
Timeout 60
DocumentRoot "{self.dir}"
{self.apps_conf()}""")

    # What soak/daemon.py's server changes: the module, the applications'
    # configuration, and room for more children.
    generator = 'soak/run.py'
    server_limit = 2

    def module_conf(self):
        return f'LoadModule wsgi_lite_module {SO}'

    def apps_conf(self):
        return (script_aliases('hello', 'big', 'echo', 'stream', 'hostile')
                + f"""SetEnv SOAK_EVENTS "{self.events}"
SetEnv SOAK_HOSTILE_EVENTS "{self.hostile_events}"
""")

    def start(self):
        out = subprocess.run([APACHE, '-f', self.conf, '-k', 'start'],
                             capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f'apache did not start: {out.stderr}'
                             f'{self.log_text()}')
        deadline = time.time() + 30
        while time.time() < deadline and not self.pid:
            try:
                with open(self.pidfile) as f:
                    self.pid = int(f.read().strip() or 0) or None
            except (OSError, ValueError):
                time.sleep(0.1)
        if not self.pid:
            raise SystemExit('no pid file: ' + self.log_text())
        while time.time() < deadline and len(self.children()) < 2:
            time.sleep(0.1)

    def children(self):
        """Live child pids of our parent (zombies excluded)."""
        pids = []
        for name in os.listdir('/proc'):
            if not name.isdigit():
                continue
            try:
                with open(f'/proc/{name}/stat') as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(')') + 2:].split()
            if fields[0] != 'Z' and int(fields[1]) == self.pid:
                pids.append(int(name))
        return sorted(pids)

    def rss(self):
        """{pid: VmRSS in kB} of the children."""
        out = {}
        for pid in self.children():
            try:
                with open(f'/proc/{pid}/status') as f:
                    for line in f:
                        if line.startswith('VmRSS:'):
                            out[pid] = int(line.split()[1])
            except OSError:
                pass
        return out

    def log_text(self, start=0):
        try:
            with open(self.log, 'rb') as f:
                f.seek(start)
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def events_count(self):
        try:
            with open(self.events, 'rb') as f:
                data = f.read()
        except OSError:
            return 0, 0
        return data.count(b's'), data.count(b'c')

    def hostile_outcomes(self):
        """thread_io's lines: {'started': n, 'read NameError': n, ...}"""
        out = {}
        try:
            with open(self.hostile_events, 'rb') as f:
                for line in f.read().decode('utf-8', 'replace').splitlines():
                    out[line] = out.get(line, 0) + 1
        except OSError:
            pass
        return out

    def alive(self):
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False

    def stop(self, timeout=30):
        if not self.pid or not self.alive():
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.time() + timeout
        while time.time() < deadline and (self.alive() or self.children()):
            time.sleep(0.1)
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if os.environ.get('SOAK_KEEP'):
            print(f'kept {self.dir}')
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def script_aliases(*names):
    """/<name> for each soak/apps/<name>.wsgi, and t/htdocs/errors/'s bad
    applications under /errors/."""
    return ''.join(f'WSGIScriptAlias /{n} "{APPS}/{n}.wsgi"\n'
                   for n in names) + f"""Alias /errors/ "{ERRORS}/"
<Directory "{ERRORS}">
    Options +ExecCGI
    SetHandler wsgi-script
</Directory>
"""


def free_port():
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the client -------------------------------------------------------------
class Failure(Exception):
    pass


class Conn:
    """One HTTP/1.1 connection (asyncio streams)."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None
        # Header names the last response repeated: {name: [values]}.
        self.repeated = {}

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(
            '127.0.0.1', self.port)

    def close(self):
        if self.writer:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method, path, body=b'', keepalive=True,
                      abandon_after=None):
        """(status, headers, body bytes, complete).  With abandon_after,
        reads the headers and that many body bytes, then closes."""
        if not self.writer:
            await self.open()
        head = (f'{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n'
                + ('' if keepalive else 'Connection: close\r\n'))
        if method == 'POST':
            head += (f'Content-Type: application/octet-stream\r\n'
                     f'Content-Length: {len(body)}\r\n')
        self.writer.write(head.encode() + b'\r\n' + body)
        await self.writer.drain()
        r = self.reader
        try:
            raw = await r.readuntil(b'\r\n\r\n')
        except asyncio.IncompleteReadError as e:
            raise Failure(f'connection closed before the status line '
                          f'({len(e.partial)} bytes)')
        lines = raw.decode('latin-1').split('\r\n')
        m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
        if not m:
            raise Failure(f'bad status line {lines[0]!r}')
        status = int(m.group(1))
        headers = {}
        self.repeated = {}
        for line in lines[1:]:
            if ':' in line:
                k, v = line.split(':', 1)
                k = k.strip().lower()
                if k in headers:
                    self.repeated.setdefault(k, [headers[k]]).append(
                        v.strip())
                headers[k] = v.strip()
        if abandon_after is not None:
            got = 0
            while got < abandon_after:
                data = await r.read(65536)
                if not data:
                    break
                got += len(data)
            self.close()
            return status, headers, b'', False
        complete = True
        chunks = []
        if method == 'HEAD' or status in (204, 304):
            pass
        elif 'chunked' in headers.get('transfer-encoding', ''):
            complete = False
            try:
                while True:
                    size_line = await r.readuntil(b'\r\n')
                    size = int(size_line.split(b';')[0], 16)
                    if size == 0:
                        await r.readuntil(b'\r\n')
                        complete = True
                        break
                    chunks.append(await r.readexactly(size))
                    await r.readexactly(2)
            except (asyncio.IncompleteReadError, ValueError):
                pass
        elif 'content-length' in headers:
            try:
                n = int(headers['content-length'])
            except ValueError:
                self.close()
                raise Failure(f'bad Content-Length '
                              f'{headers["content-length"]!r}')
            try:
                chunks.append(await r.readexactly(n))
            except asyncio.IncompleteReadError as e:
                chunks.append(e.partial)
                complete = False
        else:
            chunks.append(await r.read())
            keepalive = False
        if (not keepalive or not complete
                or headers.get('connection', '').lower() == 'close'):
            self.close()
        return status, headers, b''.join(chunks), complete


def stream_expect(chunks, size):
    return hashlib.sha256(PATTERN[:size] * chunks).hexdigest()


# The soak mix, per 100 requests; SOAK_MIX=hello=90,error=10 (summing to
# 100) runs another, to find which kind a growth comes from.
MIX = ([('hello', 62), ('big', 4), ('post', 15), ('post1m', 1),
        ('stream', 3), ('error', 10), ('disconnect', 5)])


def parse_mix(text):
    return [(k, int(v)) for k, v in (item.split('=')
                                     for item in text.split(','))]


if os.environ.get('SOAK_MIX'):
    MIX = parse_mix(os.environ['SOAK_MIX'])
# Phase 1b: the same mix with the hostile kind in it (5 per 100, taken from
# hello), SOAK_HOSTILE_REQUESTS (default half of SOAK_REQUESTS) requests,
# judged on its own so that phase 1's verdict on the other kinds is what it
# always was.  SOAK_HOSTILE_MIX changes it, SOAK_HOSTILE_REQUESTS=0 skips it;
# 'hostile' may also be put in SOAK_MIX.
HOSTILE_MIX = ([('hello', 57), ('big', 4), ('post', 15), ('post1m', 1),
                ('stream', 3), ('error', 10), ('disconnect', 5),
                ('hostile', 5)])
if os.environ.get('SOAK_HOSTILE_MIX'):
    HOSTILE_MIX = parse_mix(os.environ['SOAK_HOSTILE_MIX'])
HOSTILE_REQUESTS = env_int('SOAK_HOSTILE_REQUESTS', REQUESTS // 2)
for _mix in (MIX, HOSTILE_MIX):
    assert sum(n for _k, n in _mix) == 100, _mix
SCHEDULE = [kind for kind, n in MIX for _ in range(n)]
# Spread the kinds: request i gets SCHEDULE[(i * 37) % 100].
STREAM_SMALL = (4, 65536, 0)                    # 256 KiB, chunked
# More than loopback's socket buffers hold, so the server does see the
# client go (WSL00031 entries).
STREAM_LONG = (256, 65536, 0)                   # 16 MiB, abandoned
POST_BODIES = [os.urandom(n) for n in (1, 100, 4096, 16384, 65536, 200000)]
POST_SHAS = [f'{hashlib.sha256(b).hexdigest()} {len(b)}'.encode()
             for b in POST_BODIES]
POST_1M = os.urandom(1 << 20)
POST_1M_SHA = f'{hashlib.sha256(POST_1M).hexdigest()} {1 << 20}'.encode()
STREAM_SMALL_SHA = stream_expect(STREAM_SMALL[0], STREAM_SMALL[1])


async def one_request(conn, kind, i):
    """Make request i of `kind` on conn; None if as expected, else why."""
    if kind == 'hello':
        st, h, body, ok = await conn.request('GET', '/hello')
        return None if (st, body, ok) == (200, b'Hello World', True) else \
            f'hello: {st} {body[:60]!r}'
    if kind == 'big':
        st, h, body, ok = await conn.request('GET', '/big')
        good = st == 200 and ok and hashlib.sha256(body).hexdigest() == BIG_SHA
        return None if good else f'big: {st} {len(body)} bytes'
    if kind == 'post':
        k = i % len(POST_BODIES)
        st, h, body, ok = await conn.request('POST', '/echo', POST_BODIES[k])
        return None if st == 200 and ok and body == POST_SHAS[k] else \
            f'post: {st} {body[:80]!r}'
    if kind == 'post1m':
        st, h, body, ok = await conn.request('POST', '/echo', POST_1M)
        return None if st == 200 and ok and body == POST_1M_SHA else \
            f'post1m: {st} {body[:80]!r}'
    if kind == 'stream':
        st, h, body, ok = await conn.request(
            'GET', '/stream?%d&%d&%d' % STREAM_SMALL)
        good = (st == 200 and ok
                and hashlib.sha256(body).hexdigest() == STREAM_SMALL_SHA)
        return None if good else f'stream: {st} {len(body)} bytes'
    if kind == 'error':
        uri = SOAK_ERRORS[i % len(SOAK_ERRORS)]
        st, h, body, ok = await conn.request('GET', uri)
        return None if st == 500 else f'error {uri}: {st}'
    if kind == 'disconnect':
        # Its own connection: read the headers and 64 KiB, then hang up.
        c = Conn(conn.port)
        try:
            st, h, body, ok = await c.request(
                'GET', '/stream?%d&%d&%d' % STREAM_LONG, abandon_after=65536)
        finally:
            c.close()
        return None if st == 200 else f'disconnect: {st}'
    if kind == 'hostile':
        # One request of each hostile application in flight at a time, and
        # none after one went unanswered: an application that wedges its
        # worker thread (today: file_wrapper over /dev/zero) then holds one
        # thread, not all 50, and the run stays bounded.
        name = None
        for _ in range(len(HOSTILE_RUN)):
            cand = HOSTILE_RUN[next(HOSTILE_NEXT) % len(HOSTILE_RUN)]
            if cand not in HOSTILE_INFLIGHT and cand not in HOSTILE_TRIPPED:
                name = cand
                break
        if name is None:
            HOSTILE_COUNTS['(none free: hello instead)'] = \
                HOSTILE_COUNTS.get('(none free: hello instead)', 0) + 1
            return await one_request(conn, 'hello', i)
        HOSTILE_COUNTS[name] = HOSTILE_COUNTS.get(name, 0) + 1
        HOSTILE_INFLIGHT.add(name)
        try:
            why = await asyncio.wait_for(hostile_request(conn, name, i),
                                         HOSTILE_TIMEOUT)
        except asyncio.TimeoutError:
            HOSTILE_TRIPPED[name] = i
            why = (f'no complete answer in {HOSTILE_TIMEOUT} s (not asked '
                   f'again in this run)')
        except (Failure, OSError, asyncio.IncompleteReadError) as e:
            why = f'{type(e).__name__}: {e}'
        finally:
            HOSTILE_INFLIGHT.discard(name)
        if why:
            conn.close()
            return f'hostile {name}: {why}'
        return None
    raise ValueError(kind)


HOSTILE_NEXT = __import__('itertools').count()
HOSTILE_COUNTS = {}                 # requests made of each
HOSTILE_INFLIGHT = set()            # names with a request in flight
HOSTILE_TRIPPED = {}                # name: request that went unanswered
CLOSE_BODY = b'close_write: the real body'
THREAD_BODY = b'thread_io: the response'
EXC_BODY = b'exc_info: the body'


async def hostile_request(conn, name, i):
    """One request to apps/hostile.wsgi's `name` (with its follow-up on
    the same connection): None if as HOSTILE says, else why not."""
    path = '/hostile/' + name
    if name == 'cached_list':
        st, h, body, ok = await conn.request('GET', path)
        got = hashlib.sha256(body).hexdigest()
        if st != 200 or not ok:
            return f'{st}, {len(body)} bytes, complete {ok}'
        if h.get('x-body-sha256') != HOSTILE_CACHED_SHA:
            return f'the app hashed its list as {h.get("x-body-sha256")}'
        if got != h['x-body-sha256']:
            return (f'body ({len(body)} bytes) differs from what the app '
                    f'returned: {body.count(0xee)} bytes of the junk '
                    f'pattern 0xee')
        return None
    if name == 'close_write':
        st, h, body, ok = await conn.request('GET', f'{path}?t={i}')
        if (st, body, ok) != (200, CLOSE_BODY, True):
            return f'{st} {body[:60]!r} complete {ok}'
        if not conn.writer:
            return 'the server closed the connection after the response'
        st, h, body, ok = await conn.request('GET', f'{path}?check={i}')
        if (st, ok) != (200, True):
            return f'the next response on the connection: {st} {body[:60]!r}'
        if body != b'RuntimeError':
            return f'write() in close(): {body.decode("latin-1")!r}, ' \
                   f'not RuntimeError'
        return None
    if name == 'thread_io':
        st, h, body, ok = await conn.request('GET', path)
        return None if (st, body, ok) == (200, THREAD_BODY, True) else \
            f'{st} {body[:60]!r} complete {ok}'
    if name in ('exc_info_none', 'exc_info_ints'):
        st, h, body, ok = await conn.request('GET', path)
        if (st, body, ok) == (200, EXC_BODY, True):
            return None
        if name == 'exc_info_ints' and st == 500:
            return None
        return f'{st} {body[:60]!r} complete {ok}'
    if name == 'dup_cl':
        try:
            st, h, body, ok = await conn.request('GET', path)
            repeated = conn.repeated.get('content-length')
        finally:
            conn.close()            # its framing cannot be trusted
        if st == 500:
            return None
        return (f'{st} {body[:20]!r}' + (f', Content-Length sent as '
                                         f'{repeated}' if repeated else
                                         f', Content-Length '
                                         f'{h.get("content-length")}'))
    if name == 'devzero':
        st, h, body, ok = await conn.request('GET', path)
        if st != 200 or not ok or len(body) != 1 << 20 or body.count(0) != \
                len(body):
            return (f'{st}, {len(body)} bytes (of them {body.count(0)} '
                    f'zeros), complete {ok}, Content-Length '
                    f'{h.get("content-length")}')
        if not conn.writer:
            return 'the server closed the connection after the response'
        st, h, body, ok = await conn.request('GET', '/hello')
        return None if (st, body, ok) == (200, b'Hello World', True) else \
            f'the next response on the connection: {st} {body[:60]!r}'
    raise ValueError(name)


class Soak:
    def __init__(self, server, requests=REQUESTS, mix=None, warmup=WARMUP,
                 sample=SAMPLE):
        self.server = server
        self.requests = requests
        self.mix = mix or MIX
        self.schedule = [kind for kind, n in self.mix for _ in range(n)]
        self.warmup = warmup
        self.sample_every = sample
        self.next = 0
        self.done = 0
        self.failures = []
        self.hostile_failures = []
        self.hostile_counts = {}
        self.counts = {k: 0 for k, _ in self.mix}
        self.samples = []          # (requests done, {pid: rss kB}, secs)
        self.t0 = None
        self.next_sample = warmup

    def sample(self):
        self.samples.append((self.done, self.server.rss(),
                             time.time() - self.t0))

    async def worker(self):
        conn = Conn(self.server.port)
        deadline = self.t0 + MAX_SECONDS
        while self.next < self.requests and time.time() < deadline:
            i = self.next
            self.next += 1
            kind = self.schedule[(i * 37) % 100]
            try:
                why = await asyncio.wait_for(one_request(conn, kind, i), 120)
            except (Failure, OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError) as e:
                why = f'{kind}: {type(e).__name__}: {e}'
            if why:
                conn.close()
                (self.hostile_failures if kind == 'hostile'
                 else self.failures).append((i, why))
            self.counts[kind] += 1
            self.done += 1
            if self.done >= self.next_sample:
                self.next_sample += self.sample_every
                self.sample()
        conn.close()

    async def run(self):
        HOSTILE_COUNTS.clear()
        self.t0 = time.time()
        await asyncio.gather(*(self.worker() for _ in range(CONCURRENCY)))
        self.elapsed = time.time() - self.t0
        self.hostile_counts = dict(HOSTILE_COUNTS)
        if not self.samples or self.samples[-1][0] != self.done:
            self.sample()


def growth(samples):
    """(MB per 100k requests by least squares, by first/last) over the
    samples, on the summed RSS of the children."""
    pts = [(n, sum(r.values()) / 1024.0) for n, r, _ in samples]
    if len(pts) < 2 or pts[-1][0] == pts[0][0]:
        return 0.0, 0.0
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    slope = sxy / sxx * 1e5
    endpoints = (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0]) * 1e5
    return slope, endpoints


# --- phase 2: application faults -------------------------------------------
async def app_faults(server):
    rows = []
    ok_all = True

    async def hit(uri, want, n, bad):
        conn = Conn(server.port)
        for _ in range(n):
            try:
                st, h, body, ok = await asyncio.wait_for(
                    conn.request('GET', uri), 60)
            except (Failure, OSError, asyncio.TimeoutError) as e:
                st, body, ok = 0, repr(e).encode(), False
                conn.close()
            if want == 'truncated':
                good = st == 500 or (st == 200 and not ok)
            elif want == 'close_error':
                good = st == 200 and body == b'body before a failing close'
            else:
                good = st == want
            if not good:
                bad.append(f'{uri}: {st} {body[:60]!r}')
        conn.close()

    # Warm up: the first traceback imports traceback/linecache and fills
    # caches that are then reused.
    for uri, want in BAD_APPS:
        await asyncio.gather(*(hit(uri, want, 10, []) for _ in range(8)))
    time.sleep(1)
    rss_before = server.rss()
    t0 = time.time()
    for uri, want in BAD_APPS:
        path = uri.split('?')[0]
        start = server.log_size()
        bad = []
        per = FAULT_REPEAT // 8
        rest = FAULT_REPEAT - per * 8
        await asyncio.gather(*(hit(uri, want, per + (1 if k < rest else 0),
                                   bad) for k in range(8)))
        pat = re.compile(r"WSL00010: [^\n]*'" + re.escape(path) + "'")
        logged = 0
        deadline = time.time() + 20
        while time.time() < deadline:
            logged = len(pat.findall(server.log_text(start)))
            if logged >= FAULT_REPEAT:
                break
            time.sleep(0.2)
        time.sleep(0.3)
        logged = len(pat.findall(server.log_text(start)))
        rows.append((uri, want, FAULT_REPEAT, len(bad), logged,
                     sum(server.rss().values())))
        if bad or logged != FAULT_REPEAT:
            ok_all = False
            for b in bad[:3]:
                print('  unexpected:', b)
        print(f'  {uri}: {FAULT_REPEAT} requests, {len(bad)} unexpected, '
              f'{logged} logged')
    rss_after = server.rss()
    return rows, rss_before, rss_after, ok_all, time.time() - t0


# --- phase 3: graceful restarts under load -----------------------------------
RESTART_KINDS = ['hello', 'big', 'post', 'stream_slow']
STREAM_SLOW = (20, 16384, 20)          # 320 KiB over ~0.4 s
STREAM_SLOW_SHA = stream_expect(STREAM_SLOW[0], STREAM_SLOW[1])


async def restart_request(port, kind, i):
    conn = Conn(port)
    try:
        if kind == 'stream_slow':
            st, h, body, ok = await conn.request(
                'GET', '/stream?%d&%d&%d' % STREAM_SLOW, keepalive=False)
            good = (st == 200 and ok and
                    hashlib.sha256(body).hexdigest() == STREAM_SLOW_SHA)
            return None if good else f'stream: {st} {len(body)} {ok}'
        if kind == 'post':
            k = i % len(POST_BODIES)
            st, h, body, ok = await conn.request('POST', '/echo',
                                                 POST_BODIES[k],
                                                 keepalive=False)
            return None if st == 200 and ok and body == POST_SHAS[k] else \
                f'post: {st} {body[:60]!r}'
        st, h, body, ok = await conn.request('GET', '/' + kind,
                                             keepalive=False)
        if kind == 'big':
            good = (st == 200 and ok and
                    hashlib.sha256(body).hexdigest() == BIG_SHA)
        else:
            good = (st, body, ok) == (200, b'Hello World', True)
        return None if good else f'{kind}: {st} {len(body)} {ok}'
    finally:
        conn.close()


async def graceful_restarts(server, times=5):
    done = {'n': 0, 'stop': False}
    failures = []
    generations = []

    async def loader(k):
        i = k
        while not done['stop']:
            kind = RESTART_KINDS[i % len(RESTART_KINDS)]
            try:
                why = await asyncio.wait_for(
                    restart_request(server.port, kind, i), 60)
            except (Failure, OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError) as e:
                why = f'{kind}: {type(e).__name__}: {e}'
            if why:
                failures.append(why)
            done['n'] += 1
            i += 8

    def resumed():
        return server.log_text().count('resuming normal operations')

    async def restarter():
        await asyncio.sleep(2)
        for _ in range(times):
            before = resumed()
            t = time.time()
            for attempt in range(3):
                # A signal that arrives while Apache is still starting the
                # previous generation is dropped: send it again then.
                os.kill(server.pid, signal.SIGUSR1)
                deadline = time.time() + 20
                while time.time() < deadline and resumed() <= before:
                    await asyncio.sleep(0.1)
                if resumed() > before:
                    break
            generations.append((done['n'], round(time.time() - t, 2),
                                resumed() > before))
            await asyncio.sleep(2)
        done['stop'] = True

    t0 = time.time()
    await asyncio.gather(restarter(), *(loader(k) for k in range(8)))
    return done['n'], failures, generations, time.time() - t0


# --- phase 4: graceful stop with streams in flight ------------------------------
async def graceful_stop(server, streams=6):
    spec = (40, 16384, 100)          # 640 KiB over ~4 s
    want = stream_expect(spec[0], spec[1])
    started = []

    async def one():
        conn = Conn(server.port)
        try:
            await conn.open()
            started.append(1)
            st, h, body, ok = await conn.request(
                'GET', '/stream?%d&%d&%d' % spec, keepalive=False)
            return (st == 200 and ok and
                    hashlib.sha256(body).hexdigest() == want), len(body)
        except (Failure, OSError, asyncio.IncompleteReadError) as e:
            return False, repr(e)
        finally:
            conn.close()

    tasks = [asyncio.ensure_future(one()) for _ in range(streams)]
    await asyncio.sleep(1.0)
    t0 = time.time()
    os.kill(server.pid, signal.SIGWINCH)
    results = await asyncio.gather(*tasks)
    drained = time.time() - t0
    deadline = time.time() + 70
    while time.time() < deadline and (server.alive() or server.children()):
        await asyncio.sleep(0.1)
    exited = not server.alive() and not server.children()
    return results, drained, exited, time.time() - t0


# --- the hostile kind's verdict --------------------------------------------------
def hostile_verdict(soak, log_text, threads, indent='  '):
    """Print the hostile line of a run; (passed, crash lines, {name:
    [(request, why)]}).  Passed: every hostile response as HOSTILE says,
    and no crash line in log_text."""
    crashes = CRASH_RE.findall(log_text)
    h_bad = {}
    for i, why in soak.hostile_failures:
        name = why.split(':')[0].split()[-1]
        h_bad.setdefault(name, []).append((i, why))
    ok = not soak.hostile_failures and not crashes
    print(f'{indent}hostile: {soak.counts.get("hostile", 0)} requests, '
          f'{len(soak.hostile_failures)} unexpected; crash lines in the '
          f'log: {len(crashes)}; {"PASS" if ok else "FAIL"}')
    for name in HOSTILE_RUN:
        bad = h_bad.get(name, [])
        print(f'{indent}  {name}: {soak.hostile_counts.get(name, 0)} '
              f'requests, {len(bad)} unexpected ({HOSTILE[name]})'
              + (f'; first (request {bad[0][0]}): {bad[0][1]}' if bad
                 else ''))
    if 'thread_io' in HOSTILE_RUN:
        print(f'{indent}  thread_io threads: ' + ', '.join(
            f'{k} {v}' for k, v in sorted(threads.items())))
    for line in crashes[:5]:
        print(f'{indent}  crash:', line.strip()[:200])
    return ok, crashes, h_bad


def hostile_md(L, soak, ok, crashes, h_bad, threads, tripped, restarted):
    L(f'Hostile applications (soak/apps/hostile.wsgi, judged on their '
      f'own: {"PASS" if ok else "FAIL"}): {soak.counts.get("hostile", 0)} '
      f'requests, **{len(soak.hostile_failures)} unexpected**; lines '
      f'with "exit signal", "Segmentation fault" or "Fatal Python error" '
      f'in the log: {len(crashes)}.')
    L('')
    L('| application | expected | requests | unexpected | first unexpected |')
    L('|---|---|---:|---:|---|')
    for name in HOSTILE_RUN:
        bad = h_bad.get(name, [])
        first_bad = (f'request {bad[0][0]}: '
                     + bad[0][1].replace('|', '/')) if bad else ''
        L(f'| {name} | {HOSTILE[name]} | {soak.hostile_counts.get(name, 0)} '
          f'| {len(bad)} | {first_bad} |')
    L('')
    if 'thread_io' in HOSTILE_RUN:
        L('thread_io threads (read() and write() after the response, '
          'not judged): ' + ', '.join(f'{k} {v}' for k, v in
                                      sorted(threads.items())) + '.')
    for line in crashes[:5]:
        L(f'- crash: `{line.strip()[:200]}`')
    if tripped:
        L(f'Unanswered within {HOSTILE_TIMEOUT} s, and not asked again: '
          + ', '.join(f'{n} (request {i})' for n, i in sorted(tripped.items()))
          + '; the server was restarted (by its pid) before phase 2'
          + ('' if restarted else ' (failed)') + '.')
    other = {k: v for k, v in soak.hostile_counts.items() if k not in HOSTILE}
    if other:
        L('Hostile turns with every application in flight or '
          'unanswered, made as hello requests: '
          + ', '.join(f'{v}' for v in other.values()) + '.')
    L('')


def rss_md(L, soak):
    pids = sorted({p for n, r, _s in soak.samples if n >= soak.warmup
                   for p in r})
    L(f'RSS of the children (VmRSS, kB), sampled every {soak.sample_every} '
      f'requests after a warm-up of {soak.warmup}:')
    L('')
    L('| requests | seconds | ' + ' | '.join(f'child {p}' for p in pids)
      + ' | total kB | total vs first, kB |')
    L('|---:|---:|' + '---:|' * len(pids) + '---:|---:|')
    base = None
    for n, r, secs in soak.samples:
        if n < soak.warmup:
            continue
        total = sum(r.values())
        base = total if base is None else base
        L(f'| {n} | {secs:.0f} | ' + ' | '.join(str(r.get(p, '-'))
                                                for p in pids)
          + f' | {total} | {total - base:+d} |')
    L('')


# --- report ---------------------------------------------------------------------
def main():
    if not os.path.exists(SO):
        raise SystemExit(f'{SO} not found: run make first')
    server = Server()
    lines = []
    passed = True
    try:
        server.start()
        print(f'soak: apache pid {server.pid} port {server.port} dir '
              f'{server.dir}; children {server.children()}')
        load0 = os.getloadavg()

        print(f'phase 1: {REQUESTS} mixed requests, {CONCURRENCY} clients')
        soak = Soak(server)
        asyncio.run(soak.run())
        log1 = server.log_text()
        slope, endpoints = growth([s for s in soak.samples if s[0] >= WARMUP])
        starts, closes = server.events_count()
        # Some close() calls of abandoned streams run once Apache notices
        # the client is gone: give them a moment.
        deadline = time.time() + 30
        while starts != closes and time.time() < deadline:
            time.sleep(0.5)
            starts, closes = server.events_count()
        errors_sent = soak.counts.get('error', 0)
        logged = len(re.findall(r"WSL00010: [^\n]*'/errors/", log1))
        died = re.findall(r'.*exit signal.*', log1)
        gone = log1.count('WSL00031:')
        pids = sorted({p for n, r, _s in soak.samples if n >= WARMUP
                       for p in r})
        stable = all(sorted(r) == pids for n, r, _ in soak.samples
                     if n >= WARMUP)
        judged = soak.done - WARMUP >= GROWTH_MIN_SPAN
        p1 = (soak.done == REQUESTS and not soak.failures
              and (not judged or (slope < GROWTH_LIMIT_MB
                                  and endpoints < GROWTH_LIMIT_MB))
              and starts == closes and logged == errors_sent and not died
              and stable)
        passed &= p1
        print(f'  {soak.done} requests in {soak.elapsed:.0f} s, '
              f'{len(soak.failures)} unexpected; RSS growth '
              f'{slope:.3f} MB/100k (fit), {endpoints:.3f} (ends); '
              f'streams {starts} started {closes} closed; '
              f'{logged}/{errors_sent} errors logged; '
              f'{"PASS" if p1 else "FAIL"}')
        for i, why in soak.failures[:10]:
            print(f'  request {i}: {why}')
        # The hostile kind, when SOAK_MIX has it: its own line.
        threads = server.hostile_outcomes()
        hostile_on = soak.counts.get('hostile', 0) > 0
        ph, crashes, h_bad = True, [], {}
        if hostile_on:
            ph, crashes, h_bad = hostile_verdict(soak, log1, threads)
            passed &= ph
        tripped1 = dict(HOSTILE_TRIPPED)

        # Phase 1b: the mix with the hostile kind in it, judged on its own
        # (responses, crashes, the children's RSS growth by the same bar).
        soak_b = None
        if HOSTILE_REQUESTS > 0:
            warm_b = max(1, HOSTILE_REQUESTS // 10)
            samp_b = max(1, HOSTILE_REQUESTS // 40)
            print(f'phase 1b: {HOSTILE_REQUESTS} mixed requests with hostile '
                  f'applications, {CONCURRENCY} clients')
            log_b0 = server.log_size()
            soak_b = Soak(server, HOSTILE_REQUESTS, HOSTILE_MIX, warm_b,
                          samp_b)
            asyncio.run(soak_b.run())
            log_b = server.log_text(log_b0)
            slope_b, ends_b = growth([x for x in soak_b.samples
                                      if x[0] >= warm_b])
            pids_b = sorted({p for n, r, _s in soak_b.samples if n >= warm_b
                             for p in r})
            stable_b = all(sorted(r) == pids_b for n, r, _ in soak_b.samples
                           if n >= warm_b)
            judged_b = soak_b.done - warm_b >= GROWTH_MIN_SPAN
            rss_ok_b = not judged_b or (slope_b < GROWTH_LIMIT_MB and
                                        ends_b < GROWTH_LIMIT_MB)
            print(f'  {soak_b.done} requests in {soak_b.elapsed:.0f} s; '
                  f'{len(soak_b.failures)} unexpected of the other kinds; '
                  f'RSS growth {slope_b:.3f} MB/100k (fit), {ends_b:.3f} '
                  f'(ends)' + ('' if judged_b else ' (not judged: fewer than '
                               f'{GROWTH_MIN_SPAN} after warm-up)')
                  + f'; same children {stable_b}')
            for i, why in soak_b.failures[:10]:
                print(f'  request {i}: {why}')
            threads_b = {k: v - threads.get(k, 0) for k, v in
                         server.hostile_outcomes().items()}
            hb, crashes_b, h_bad_b = hostile_verdict(soak_b, log_b, threads_b)
            p1b = (hb and rss_ok_b and stable_b and not soak_b.failures
                   and soak_b.done == HOSTILE_REQUESTS)
            passed &= p1b
            print(f'  phase 1b: {"PASS" if p1b else "FAIL"}')
        restarted = False
        if HOSTILE_TRIPPED:
            # Worker threads the hostile apps hold would be in the way of
            # the later phases (graceful restart and stop wait for them).
            print(f'  hostile: {", ".join(sorted(HOSTILE_TRIPPED))} left '
                  f'unanswered; restarting the server before phase 2')
            server.stop()
            server.pid = None
            server.start()
            restarted = True
            print(f'  new apache pid {server.pid}; children '
                  f'{server.children()}')

        print(f'phase 2: app faults, {FAULT_REPEAT} each')
        rows, f_before, f_after, p2, f_secs = asyncio.run(app_faults(server))
        log2 = server.log_text()
        died2 = re.findall(r'.*exit signal.*', log2)
        f_growth = (sum(f_after.values()) - sum(f_before.values())) / 1024.0
        p2 = (p2 and not died2 and f_growth < GROWTH_LIMIT_MB
              and sorted(f_before) == sorted(f_after))
        passed &= p2
        print(f'  RSS {sum(f_before.values())} -> {sum(f_after.values())} kB;'
              f' {"PASS" if p2 else "FAIL"}')

        print('phase 3: 5 graceful restarts under load')
        r_n, r_fail, r_gens, r_secs = asyncio.run(graceful_restarts(server))
        p3 = not r_fail and len(r_gens) == 5 and all(g[2] for g in r_gens)
        passed &= p3
        print(f'  {r_n} requests in {r_secs:.0f} s, {len(r_fail)} failed; '
              f'{"PASS" if p3 else "FAIL"}')
        for why in r_fail[:10]:
            print('  ', why)

        print('phase 4: graceful stop with streams in flight')
        s_res, s_drain, s_exit, s_secs = asyncio.run(graceful_stop(server))
        p4 = all(ok for ok, _ in s_res) and s_exit
        passed &= p4
        print(f'  {sum(ok for ok, _ in s_res)}/{len(s_res)} streams complete,'
              f' exited {s_exit}; {"PASS" if p4 else "FAIL"}')
        load1 = os.getloadavg()
        final_log = server.log_text()
    finally:
        server.cleanup()

    # --- the results file ---
    now = datetime.datetime.now(datetime.timezone.utc)
    rev = subprocess.run(['git', '-C', TOP, 'rev-parse', '--short', 'HEAD'],
                         capture_output=True, text=True).stdout.strip()
    L = lines.append
    L(f'# Soak run {now:%Y-%m-%d %H:%M} UTC')
    L('')
    L(f'Commit {rev} (plus uncommitted changes, if any); {APACHE} '
      f'(event MPM, 2 children x 25 threads); {os.cpu_count()} cores; '
      f'load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end '
      f'(the machine was shared with other jobs).')
    L(f'Overall: **{"PASS" if passed else "FAIL"}**')
    L('')
    L(f'## 1. Soak: {soak.done} requests, {CONCURRENCY} clients '
      f'({"PASS" if p1 else "FAIL"})')
    L('')
    L(f'{soak.elapsed:.0f} s, {soak.done / soak.elapsed:.0f} requests/s. '
      'Mix per 100: ' + ', '.join(f'{k} {n}' for k, n in MIX) + '.')
    L('Counts: ' + ', '.join(f'{k} {v}' for k, v in soak.counts.items())
      + f'. Unexpected outcomes: **{len(soak.failures)}**.')
    for i, why in soak.failures[:10]:
        L(f'- request {i}: {why}')
    L(f'Streamed responses (stream + disconnect): {starts} started, '
      f'{closes} close() calls; WSL00031 (client went away) entries: '
      f'{gone} for {soak.counts.get("disconnect", 0)} disconnecting clients. '
      f'Error requests: {errors_sent}, WSL00010 '
      f'entries: {logged}. "exit signal" in the log: {len(died)}.')
    L('')
    if hostile_on:
        hostile_md(L, soak, ph, crashes, h_bad, threads, tripped1,
                   restarted)
    rss_md(L, soak)
    L(f'Growth: **{slope:.3f} MB per 100,000 requests** (least-squares fit), '
      f'{endpoints:.3f} MB per 100,000 (first to last sample); limit '
      f'{GROWTH_LIMIT_MB} MB'
      + ('' if judged else f' (not judged: fewer than {GROWTH_MIN_SPAN} '
                           'requests after warm-up)')
      + f'. Same children throughout: {stable}.')
    L('')
    if soak_b:
        L(f'## 1b. Hostile applications in the mix: {soak_b.done} requests, '
          f'{CONCURRENCY} clients ({"PASS" if p1b else "FAIL"})')
        L('')
        L(f'{soak_b.elapsed:.0f} s. Mix per 100: '
          + ', '.join(f'{k} {n}' for k, n in HOSTILE_MIX) + '. Counts: '
          + ', '.join(f'{k} {v}' for k, v in soak_b.counts.items())
          + f'. Unexpected outcomes of the other kinds: '
          f'**{len(soak_b.failures)}**.')
        for i, why in soak_b.failures[:10]:
            L(f'- request {i}: {why}')
        L('')
        hostile_md(L, soak_b, hb, crashes_b, h_bad_b, threads_b,
                   HOSTILE_TRIPPED, restarted)
        rss_md(L, soak_b)
        L(f'Growth: **{slope_b:.3f} MB per 100,000 requests** (fit), '
          f'{ends_b:.3f} (first to last sample); limit {GROWTH_LIMIT_MB} MB'
          + ('' if judged_b else f' (not judged: fewer than '
                                 f'{GROWTH_MIN_SPAN} requests after warm-up)')
          + f'. Same children throughout: {stable_b}.')
        L('')
    L(f'## 2. Application faults: {FAULT_REPEAT} requests each, 8 clients '
      f'({"PASS" if p2 else "FAIL"})')
    L('')
    L('| application | expected | requests | unexpected | WSL00010 entries '
      '| children RSS after, kB |')
    L('|---|---|---:|---:|---:|---:|')
    for uri, want, n, bad, logged_n, rss in rows:
        L(f'| {uri} | {want} | {n} | {bad} | {logged_n} | {rss} |')
    L('')
    L(f'{len(rows) * FAULT_REPEAT} requests in {f_secs:.0f} s. Children RSS '
      f'{sum(f_before.values())} kB before, {sum(f_after.values())} kB '
      f'after ({f_growth:+.2f} MB); "exit signal" in the log: {len(died2)}.')
    L('')
    L(f'## 3. Graceful restart under load ({"PASS" if p3 else "FAIL"})')
    L('')
    L(f'8 clients, a new connection per request, kinds {RESTART_KINDS} '
      f'(bodies checked by SHA-256 and framing); {r_n} requests in '
      f'{r_secs:.0f} s; SIGUSR1 five times (each waited for "resuming '
      f'normal operations"): requests done / seconds to the new generation '
      f'at each: ' + ', '.join(f'{g[0]} / {g[1]}' for g in r_gens)
      + f'. Failed or truncated responses: **{len(r_fail)}**.')
    for why in r_fail[:10]:
        L(f'- {why}')
    L('')
    L(f'## 4. Graceful stop with streams in flight ({"PASS" if p4 else "FAIL"})')
    L('')
    L(f'{len(s_res)} streamed responses (640 KiB over ~4 s each), SIGWINCH '
      f'1 s in: {sum(ok for ok, _ in s_res)} complete with the right '
      f'SHA-256, {s_drain:.1f} s after the signal; server gone: {s_exit} '
      f'({s_secs:.1f} s after the signal).')
    L('')
    text = '\n'.join(lines) + '\n'
    os.makedirs(os.path.join(TOP, 'soak', 'results'), exist_ok=True)
    out = os.environ.get('SOAK_RESULTS') or os.path.join(
        TOP, 'soak', 'results', f'{now:%Y-%m-%d}.md')
    with open(out, 'w') as f:
        f.write(text)
    print(f'results: {out}')
    if not passed:
        print('soak: FAILED')
        crash = [l for l in final_log.splitlines() if 'exit signal' in l]
        for l in crash[:5]:
            print('  ', l)
    else:
        print('soak: passed')
    return 0 if passed else 1


if __name__ == '__main__':
    sys.exit(main())
