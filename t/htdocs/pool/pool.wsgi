# t/htdocs/pool/pool.wsgi: what an interpreter of a pool (WSGIInterpreterCount,
# WSGIPerInterpreterGIL) is, for t/interp_pool.t.  By PATH_INFO:
#   /who[?ms=N]  (after N ms of CPU) JSON: the environ's interpreter and group, this module's
#                token (made once per interpreter at import), the thread,
#                the pid, this thread's threading.local count
#   /spin?ms=N   N ms of this thread's CPU in pure Python (time.thread_time:
#                a thread waiting for a GIL uses none), then JSON with the
#                monotonic start and end, the interpreter and the pid
#   /ext         import _testsinglephase: an extension with single-phase
#                initialisation, which an own-GIL interpreter refuses
#   /refused     JSON: what os.fork(), subprocess.run(), a thread and a
#                daemon thread give here ('ok' or the exception)
#   /sleep?s=S   sleeps S seconds in stuck_here() (request-timeout's stack)
#   /nap?ms=N    time.sleep for N ms (the GIL dropped, the turn kept), then
#                JSON as /spin's
#   /ssi         text/html: the /who JSON of this request and an SSI include
#                of SCRIPT_NAME/who, sent with write() (passed down at once,
#                inside the call: mod_include's INCLUDES filter runs the
#                include as a subrequest then), and an end line
#   /boom        raises
#   /stream      ten chunks from a generator
#   /echo        the request body back (wsgi.input)
#   /atexit?f=P[&ms=N]  registers an atexit callback (once per interpreter) that
#                appends "atexit pid=... interpreter=... token=..." to P
import atexit
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

TOKEN = uuid.uuid4().hex
_local = threading.local()
_atexit = {}


def _who(environ):
    _local.n = getattr(_local, 'n', 0) + 1
    return {
        'interpreter': environ.get('mod_wsgi_lite.interpreter'),
        'group': environ.get('mod_wsgi.application_group'),
        'token': TOKEN,
        'thread': threading.get_ident(),
        'pid': os.getpid(),
        'local': _local.n,
        'switchinterval': sys.getswitchinterval(),
        'preloaded': getattr(__import__('builtins'), 'wsl_pool_preloaded',
                             0),
    }


def _spin(ms):
    start = time.monotonic()
    until = time.thread_time() + ms / 1000.0
    x = 0
    while time.thread_time() < until:
        for i in range(1000):
            x += i
    return start, time.monotonic()


def stuck_here(seconds):
    time.sleep(seconds)


def _attempt(fn):
    try:
        fn()
        return 'ok'
    except Exception as e:
        return '%s: %s' % (type(e).__name__, e)


def _run_thread(daemon):
    t = threading.Thread(target=lambda: None, daemon=daemon)
    t.start()
    t.join()


def _refused():
    import subprocess
    return {
        'fork': _attempt(lambda: os.fork()),
        'subprocess': _attempt(lambda: subprocess.run(['/bin/true'])),
        'thread': _attempt(lambda: _run_thread(False)),
        'daemon_thread': _attempt(lambda: _run_thread(True)),
    }


def _on_exit(path, interpreter):
    with open(path, 'a') as fh:
        fh.write('atexit pid=%d interpreter=%s token=%s\n'
                 % (os.getpid(), interpreter, TOKEN))


def application(environ, start_response):
    path = environ.get('PATH_INFO', '')
    query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    if path == '/boom':
        raise RuntimeError('pool.wsgi: boom, as asked')
    if path == '/ext':
        import _testsinglephase  # noqa: F401 (refused under an own GIL)
        body = b'imported'
    elif path == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return (b'chunk %d\n' % i for i in range(10))
    elif path == '/echo':
        n = int(environ.get('CONTENT_LENGTH') or 0)
        body = environ['wsgi.input'].read(n)
    elif path == '/spin':
        start, end = _spin(int(query.get('ms', ['200'])[0]))
        who = _who(environ)
        who.update(start=start, end=end)
        body = json.dumps(who).encode()
    elif path == '/nap':
        start = time.monotonic()
        time.sleep(int(query.get('ms', ['400'])[0]) / 1000.0)
        who = _who(environ)
        who.update(start=start, end=time.monotonic())
        body = json.dumps(who).encode()
    elif path == '/ssi':
        write = start_response('200 OK', [('Content-Type', 'text/html')])
        write(('%s\n<!--#include virtual="%s/who" -->\n' % (
            json.dumps(_who(environ)), environ['SCRIPT_NAME'])).encode())
        return [b'end\n']
    elif path == '/sleep':
        stuck_here(float(query.get('s', ['1'])[0]))
        body = b'slept'
    elif path == '/refused':
        body = json.dumps(_refused()).encode()
    elif path == '/atexit':
        _spin(int(query.get('ms', ['0'])[0]))
        f = query['f'][0]
        if f not in _atexit:
            _atexit[f] = True
            atexit.register(_on_exit, f,
                            environ.get('mod_wsgi_lite.interpreter'))
        body = json.dumps(_who(environ)).encode()
    else:
        # ?ms=N: N ms of CPU first, so that requests sent together are
        # in the app together.
        _spin(int(query.get('ms', ['0'])[0]))
        body = json.dumps(_who(environ)).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
