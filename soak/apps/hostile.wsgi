# Hostile applications for soak/run.py's 'hostile' kind, one per PATH_INFO.
# Each is legal enough Python that a server must survive it; what the
# client expects of each is in run.py (HOSTILE).
#
#   /cached_list   returns a module-level list of large bytes objects while
#                  a background thread keeps replacing its items with new
#                  objects of the same content (the old ones are freed and
#                  their memory refilled with other bytes); X-Body-SHA256 is
#                  the body's digest, computed before returning.
#   /close_write?t=<token>   an iterable whose close() calls write(); the
#                  outcome (the exception's name, or 'no error') is kept
#                  under the token.  /close_write?check=<token> answers it.
#   /thread_io     starts a thread that, after the response (once the
#                  server has called the body's close()), calls
#                  wsgi.input.read() and write(); outcomes go to
#                  environ's SOAK_HOSTILE_EVENTS, one line per call.
#   /exc_info_none start_response(..., exc_info=(None, None, None))
#   /exc_info_ints start_response(..., exc_info=(1, 2, 3))
#   /dup_cl        two conflicting Content-Length headers (5 and 7)
#   /devzero       wsgi.file_wrapper over /dev/zero, Content-Length 1 MiB
import hashlib
import os
import random
import threading
import time

ITEM = 128 * 1024
ITEMS = 8
# Distinct contents per item, so a stale or reused buffer shows in the hash.
CONTENT = [bytes([(k * 37 + j) & 0xff for j in range(256)]) * (ITEM // 256)
           for k in range(ITEMS)]
CACHED = [bytes(bytearray(c)) for c in CONTENT]
CACHED_SHA = hashlib.sha256(b''.join(CONTENT)).hexdigest()

_lock = threading.Lock()
_churner = None
_last_use = 0.0


def _churn():
    """Replace CACHED's items with equal copies while requests come; the
    freed objects' memory is then likely reused for a junk object of the
    same size, so a server still sending from a freed buffer sends junk."""
    global _churner
    junk = None
    k = 0
    while True:
        with _lock:
            if time.time() - _last_use > 2.0:
                _churner = None
                return
        i = k % ITEMS
        CACHED[i] = bytes(bytearray(CONTENT[i]))    # the old one is freed
        junk = b'\xee' * ITEM                       # most likely in its place
        k += 1
        time.sleep(0.0005)
        del junk


def cached_list(environ, start_response):
    global _churner, _last_use
    with _lock:
        _last_use = time.time()
        if _churner is None:
            _churner = threading.Thread(target=_churn, daemon=True)
            _churner.start()
    digest = hashlib.sha256(b''.join(CACHED)).hexdigest()
    start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                              ('X-Body-SHA256', digest)])
    return CACHED


CLOSE_RESULTS = {}
CLOSE_BODY = b'close_write: the real body'


class CloseWrites:
    def __init__(self, write, token):
        self.write = write
        self.token = token

    def __iter__(self):
        yield CLOSE_BODY

    def close(self):
        try:
            self.write(b'INJECTED BY close() ')
            outcome = 'no error'
        except Exception as e:                   # noqa: BLE001
            outcome = type(e).__name__
        with _lock:
            if len(CLOSE_RESULTS) > 1000:
                CLOSE_RESULTS.clear()
            CLOSE_RESULTS[self.token] = outcome


def close_write(environ, start_response):
    qs = environ.get('QUERY_STRING', '')
    if qs.startswith('check='):
        with _lock:
            body = CLOSE_RESULTS.pop(qs[6:], 'unknown token').encode()
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', str(len(body)))])
        return [body]
    token = qs[2:] if qs.startswith('t=') else 'none'
    write = start_response('200 OK', [
        ('Content-Type', 'text/plain'),
        ('Content-Length', str(len(CLOSE_BODY)))])
    return CloseWrites(write, token)


def record(path, line):
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line.encode() + b'\n')
    finally:
        os.close(fd)


def _late_io(path, stream, write, done):
    # After the response: the server calls close() once it has sent it.
    if not done.wait(30):
        record(path, 'close() never called')
        return
    time.sleep(random.uniform(0.0, 0.03))
    for what, call in (('read', lambda: stream.read(4096)),
                       ('write', lambda: write(b'LATE WRITE '))):
        try:
            call()
            outcome = 'no error'
        except Exception as e:                   # noqa: BLE001
            outcome = type(e).__name__
        record(path, f'{what} {outcome}')


THREAD_BODY = b'thread_io: the response'


class Done:
    """The response body, with a close() that lets the thread go."""

    def __init__(self, done):
        self.done = done

    def __iter__(self):
        yield THREAD_BODY

    def close(self):
        self.done.set()


def thread_io(environ, start_response):
    path = environ.get('SOAK_HOSTILE_EVENTS')     # SetEnv: in environ
    record(path, 'started')
    write = start_response('200 OK', [
        ('Content-Type', 'text/plain'),
        ('Content-Length', str(len(THREAD_BODY)))])
    done = threading.Event()
    threading.Thread(target=_late_io,
                     args=(path, environ['wsgi.input'], write, done),
                     daemon=True).start()
    return Done(done)


EXC_BODY = b'exc_info: the body'


def exc_info_none(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')],
                   (None, None, None))
    return [EXC_BODY]


def exc_info_ints(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')], (1, 2, 3))
    return [EXC_BODY]


def dup_cl(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '5'),
                              ('Content-Length', '7')])
    return [b'1234567']


def devzero(environ, start_response):
    f = open('/dev/zero', 'rb')
    start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                              ('Content-Length', str(1 << 20))])
    return environ['wsgi.file_wrapper'](f, 65536)


APPS = {
    '/cached_list': cached_list,
    '/close_write': close_write,
    '/thread_io': thread_io,
    '/exc_info_none': exc_info_none,
    '/exc_info_ints': exc_info_ints,
    '/dup_cl': dup_cl,
    '/devzero': devzero,
}


def application(environ, start_response):
    app = APPS.get(environ.get('PATH_INFO', ''))
    if app is None:
        start_response('404 Not Found', [('Content-Type', 'text/plain')])
        return [b'no such hostile app']
    return app(environ, start_response)
