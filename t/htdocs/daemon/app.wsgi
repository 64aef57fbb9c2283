# t/daemon.t: one application for daemon mode and embedded mode alike,
# the case chosen by ?case=NAME (the rest of the query string is its
# arguments, a=b&c=d).  WSL_FIXTURES (SetEnv) is the test's own directory
# for files it makes and markers the application leaves.
import hashlib
import json
import locale
import os
import signal
import sys
import time
from urllib.parse import parse_qs

import mod_wsgi


def args(environ):
    return {k: v[0] for k, v in
            parse_qs(environ.get('QUERY_STRING', ''),
                     keep_blank_values=True).items()}


def reply(start_response, data, status='200 OK'):
    body = json.dumps(data, sort_keys=True).encode('ascii')
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(body)))])
    return [body]


def describe(value):
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, tuple):
        return list(value)
    return '<%s>' % type(value).__name__


def importable(name):
    try:
        module = __import__(name)
    except ImportError:
        return None
    return module.__file__


def info(environ, start_response, a):
    return reply(start_response, {
        'pid': os.getpid(),
        'ppid': os.getppid(),
        'uid': os.getuid(),
        'environ_process_group': environ.get('mod_wsgi.process_group'),
        'environ_lite_process_group':
            environ.get('mod_wsgi_lite.process_group'),
        'module_process_group': mod_wsgi.process_group,
        'multithread': environ['wsgi.multithread'],
        'multiprocess': environ['wsgi.multiprocess'],
        'threads_per_process': mod_wsgi.threads_per_process,
        'maximum_processes': mod_wsgi.maximum_processes,
        'cwd': os.getcwd(),
        'prefix': sys.prefix,
        'base_prefix': sys.base_prefix,
        'lang': os.environ.get('LANG'),
        'lc_all': os.environ.get('LC_ALL'),
        'ctype': locale.setlocale(locale.LC_CTYPE),
        'path_module': importable('wsl_dtest_path_only'),
        'venv_module': importable('wsl_dtest_venv_only'),
    })


def env(environ, start_response, a):
    return reply(start_response,
                 {k: describe(v) for k, v in environ.items()})


def read_all(environ, size=65536):
    stream = environ['wsgi.input']
    digest, length = hashlib.sha256(), 0
    while True:
        chunk = stream.read(size)
        if not chunk:
            break
        digest.update(chunk)
        length += len(chunk)
    return length, digest.hexdigest()


def sha(environ, start_response, a):
    if 'sleep' in a:
        time.sleep(float(a['sleep']))
    length, hexdigest = read_all(environ)
    return reply(start_response, {'length': length, 'sha256': hexdigest,
                                  'pid': os.getpid()})


def noread(environ, start_response, a):
    return reply(start_response, {'read': False, 'pid': os.getpid()})


def echo(environ, start_response, a):
    """The body back as it is read, one piece per read."""
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    stream = environ['wsgi.input']

    def pieces():
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            yield chunk
    return pieces()


class Counted:
    """An iterable whose close() leaves one line in a marker file."""

    def __init__(self, environ, a):
        self.marker = os.path.join(environ['WSL_FIXTURES'], a['marker'])
        self.n = int(a.get('n', 1000))
        self.sent = 0

    def __iter__(self):
        for i in range(self.n):
            self.sent += 1
            yield b'%08d' % i + b'.' * 8183 + b'\n'
            time.sleep(0.01)

    def close(self):
        with open(self.marker, 'a') as f:
            f.write('closed pid=%d after=%d of=%d\n'
                    % (os.getpid(), self.sent, self.n))


class Pattern:
    """n pieces of size bytes, piece i its own bytes (SHA-256 of
    "seed-i", repeated): t/daemon.t makes the same and compares.  With a
    marker, close() leaves a line there."""

    def __init__(self, environ, a):
        self.seed = a.get('seed', 's')
        self.n = int(a.get('n', 10))
        self.size = int(a.get('size', 65536))
        self.marker = (os.path.join(environ['WSL_FIXTURES'], a['marker'])
                       if 'marker' in a else None)
        self.sent = 0

    def __iter__(self):
        for i in range(self.n):
            digest = hashlib.sha256(b'%s-%d' % (self.seed.encode(), i))
            self.sent += 1
            yield (digest.digest() * (self.size // 32 + 1))[:self.size]

    def close(self):
        if self.marker:
            with open(self.marker, 'a') as f:
                f.write('closed pid=%d after=%d of=%d\n'
                        % (os.getpid(), self.sent, self.n))


def pattern(environ, start_response, a):
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return Pattern(environ, a)


def closing(environ, start_response, a):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return Counted(environ, a)


def file(environ, start_response, a):
    path = os.path.join(environ['WSL_FIXTURES'], a['name'])
    f = open(path, 'rb')
    start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                              ('Content-Length',
                               str(os.fstat(f.fileno()).st_size))])
    return environ['wsgi.file_wrapper'](f, 1 << 20)


def raise_after(environ, start_response, a):
    start_response('200 OK', [('Content-Type', 'text/plain')])

    def pieces():
        yield b'a' * 5000
        yield b'b' * 5000
        raise RuntimeError('wsl-dtest: cut short on purpose')
    return pieces()


def kill_after(environ, start_response, a):
    if a.get('unless') == str(os.getpid()):
        return reply(start_response, {'pid': os.getpid()},
                     '409 Same Process')
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-Pid', str(os.getpid()))])

    def pieces():
        yield b'k' * 10000
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(5)
        yield b'never'
    return pieces()


def kill_before(environ, start_response, a):
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(5)
    return reply(start_response, {'never': True})


def slow(environ, start_response, a):
    start_response('200 OK', [('Content-Type', 'text/plain')])

    def pieces():
        yield b'pid=%d\n' % os.getpid()
        time.sleep(float(a.get('sleep', 3)))
        yield b'end\n'
    return pieces()


def sigint(environ, start_response, a):
    # The idiom of Django's and others' wsgi.py files for "restart me".
    if mod_wsgi.process_group != '':
        os.kill(os.getpid(), signal.SIGINT)
    return reply(start_response, {'pid': os.getpid()})


def status(environ, start_response, a):
    code = a.get('status', '404')
    start_response(code + ' App Status', [('Content-Type', 'text/plain'),
                                          ('X-From-App', 'yes')])
    return [b'app body for ' + code.encode('ascii')]


def hello(environ, start_response, a):
    body = b'hello from %d\n' % os.getpid()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body))),
                              ('X-Method', environ['REQUEST_METHOD'])])
    return [body]


def hello_gen(environ, start_response, a):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-Method', environ['REQUEST_METHOD'])])

    def pieces():
        for i in range(3):
            yield b'piece %d\n' % i
    return pieces()


CASES = {f.__name__: f for f in (
    info, env, sha, noread, echo, pattern, closing, file, raise_after,
    kill_after, kill_before, slow, sigint, status, hello, hello_gen)}


def application(environ, start_response):
    a = args(environ)
    return CASES[a.get('case', 'info')](environ, start_response, a)
