# t/streams.t: sys.stdout, sys.stderr and sys.stdin as libraries see them.
#
# At import time it takes sys.stdin.buffer and sys.stdout.buffer (as
# Mercurial's hgweb does) and reads every attribute a library might; ?attrs
# returns what it saw, as JSON.  The other queries (TAG is the test's
# marker, so that the test can find exactly its own lines in the log):
#   ?write=TAG      one line each through print, sys.stdout.write,
#                   sys.stdout.buffer (bytes, bytearray, memoryview),
#                   sys.stderr, print(file=sys.stderr), writelines, and one
#                   line written in two parts with a flush() between them
#   ?threads=TAG    4 threads write 50 lines each at once (2 print, 2
#                   sys.stdout.buffer.write), yielding the GIL in between
#   ?reconfigure=TAG  sys.stderr.reconfigure(errors=...) and back
#   ?partial=TAG    a line without its newline on sys.stdout, another from
#                   a thread (joined) on sys.stderr; with &linger=1 a daemon
#                   thread that keeps running then adds to sys.stdout's
#                   line through sys.stdout.buffer
#   ?restricted=TAG every way of reading sys.stdin and writing sys.stdout;
#                   each outcome, an exception as its type and message
import io
import json
import os
import sys
import threading
import time


def attempt(fn):
    try:
        result = fn()
        if isinstance(result, bytes):
            result = result.decode('latin-1')
        return {'ok': True, 'result': result}
    except Exception as e:
        return {'ok': False, 'type': type(e).__name__,
                'unsupported': isinstance(e, io.UnsupportedOperation),
                'oserror': isinstance(e, OSError), 'message': str(e)}


def describe(stream):
    info = {
        'type': type(stream).__module__ + '.' + type(stream).__name__,
        'is_textiowrapper': type(stream) is io.TextIOWrapper,
        'id': id(stream),
    }
    for attr in ('encoding', 'errors', 'line_buffering', 'write_through',
                 'name', 'mode', 'closed', 'newlines'):
        info[attr] = attempt(lambda: getattr(stream, attr))
    for meth in ('isatty', 'readable', 'writable', 'seekable', 'fileno'):
        info[meth] = attempt(lambda: getattr(stream, meth)())
    buf = getattr(stream, 'buffer', None)
    if buf is not None:
        info['buffer'] = {
            'type': type(buf).__module__ + '.' + type(buf).__name__,
            'id': id(buf),
        }
        for meth in ('isatty', 'readable', 'writable', 'seekable', 'fileno'):
            info['buffer'][meth] = attempt(lambda: getattr(buf, meth)())
        info['buffer']['name'] = attempt(lambda: buf.name)
        info['buffer']['closed'] = attempt(lambda: buf.closed)
    return info


# Import time: what hgweb and friends do before any request.
STDIN_BUFFER = sys.stdin.buffer
STDOUT_BUFFER = sys.stdout.buffer
AT_IMPORT = {name: describe(getattr(sys, name))
             for name in ('stdin', 'stdout', 'stderr')}


def write_lines(tag, environ):
    print(tag + '-print')
    sys.stdout.write(tag + '-stdout-write\n')
    sys.stdout.buffer.write(tag.encode() + b'-buffer-bytes\n')
    sys.stdout.buffer.write(bytearray(tag.encode() + b'-buffer-bytearray\n'))
    sys.stdout.buffer.write(memoryview(tag.encode() + b'-buffer-memoryview\n'))
    sys.stderr.write(tag + '-stderr-write\n')
    print(tag + '-stderr-print', file=sys.stderr)
    sys.stdout.writelines([tag + '-writelines-1\n', tag + '-writelines-2\n'])
    print(tag + '-part1', end='')
    sys.stdout.flush()
    print(tag + '-part2')
    # Two lines in one write: two entries.
    sys.stdout.write(tag + '-two-a\n' + tag + '-two-b\n')
    # Text, then its end as bytes through the same buffer: one line.
    sys.stdout.write(tag + '-mixed-text')
    sys.stdout.buffer.write(b'-mixed-bytes\n')
    environ_errors = environ['wsgi.errors']
    environ_errors.write(tag + '-wsgi-errors\n')
    return {
        'wsgi_errors_type': type(environ_errors).__module__ + '.'
                            + type(environ_errors).__name__,
        'wsgi_errors_api': [hasattr(environ_errors, m)
                            for m in ('write', 'writelines', 'flush')],
    }


def write_threads(tag):
    start = threading.Barrier(4)
    pad = 'x' * 150

    def by_print(i):
        start.wait()
        for n in range(50):
            print('%s t%d n%d %s' % (tag, i, n, pad))
            time.sleep(0)

    def by_buffer(i):
        start.wait()
        for n in range(50):
            sys.stdout.buffer.write(('%s t%d n%d %s\n' % (tag, i, n, pad))
                                    .encode())
            time.sleep(0)

    threads = [threading.Thread(target=by_print if i < 2 else by_buffer,
                                args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return {'alive': sum(t.is_alive() for t in threads)}


def reconfigure(tag):
    report = {}
    sys.stderr.reconfigure(errors='backslashreplace')
    report['errors_after'] = sys.stderr.errors
    sys.stderr.write(tag + '-backslash-\udcff\n')
    sys.stderr.reconfigure(errors='replace')
    report['errors_back'] = sys.stderr.errors
    sys.stderr.write(tag + '-replace-\udcff\n')
    sys.stdout.reconfigure(line_buffering=True)
    report['line_buffering'] = sys.stdout.line_buffering
    report['same_object'] = id(sys.stderr) == AT_IMPORT['stderr']['id']
    return report


def _linger(tag, ready):
    sys.stdout.buffer.write(tag.encode() + b'-linger-partial')
    ready.set()
    while True:
        time.sleep(0.05)


def partial(tag, linger):
    report = {'stdout': attempt(
        lambda: sys.stdout.write(tag + '-stdout-partial'))}
    t = threading.Thread(
        target=lambda: sys.stderr.write(tag + '-thread-partial'))
    t.start()
    t.join(10)
    if linger:
        ready = threading.Event()
        threading.Thread(target=_linger, args=(tag, ready),
                         daemon=True).start()
        report['linger'] = ready.wait(10)
    return report


def restricted(tag):
    line = tag + '-restricted\n'
    return {
        'print': attempt(lambda: print(line, end='')),
        'stdout_write': attempt(lambda: sys.stdout.write(line)),
        'stdout_buffer_write': attempt(
            lambda: sys.stdout.buffer.write(line.encode())),
        'stdin_read': attempt(lambda: sys.stdin.read()),
        'stdin_readline': attempt(lambda: sys.stdin.readline()),
        'stdin_iter': attempt(lambda: [l for l in sys.stdin]),
        'stdin_buffer_read': attempt(lambda: sys.stdin.buffer.read()),
        'stdin_import_buffer_read1': attempt(lambda: STDIN_BUFFER.read1(10)),
        'stdin_write': attempt(lambda: sys.stdin.write('x')),
        'stdin_type': type(sys.stdin).__name__,
        'stdin_buffer_type': type(sys.stdin.buffer).__name__,
        # Under WSGIRestrictStdout the stream itself is still there.
        'stdout_encoding': attempt(lambda: sys.stdout.encoding),
        'stdout_buffer': type(sys.stdout.buffer).__name__,
    }


def application(environ, start_response):
    action, _, rest = environ.get('QUERY_STRING', '').partition('=')
    tag, _, opt = rest.partition('&')
    report = {
        'pid': os.getpid(),
        'group': environ.get('mod_wsgi_lite.application_group'),
        'same_streams': [id(getattr(sys, n)) == AT_IMPORT[n]['id']
                         for n in ('stdin', 'stdout', 'stderr')],
    }
    if action == 'attrs':
        report['at_import'] = AT_IMPORT
        report['stdout_buffer_kept'] = sys.stdout.buffer is STDOUT_BUFFER
        report['stdin_buffer_kept'] = sys.stdin.buffer is STDIN_BUFFER
    elif action == 'write':
        report['write'] = write_lines(tag, environ)
    elif action == 'threads':
        report['threads'] = write_threads(tag)
    elif action == 'reconfigure':
        report['reconfigure'] = reconfigure(tag)
    elif action == 'partial':
        report['partial'] = partial(tag, opt == 'linger=1')
    elif action == 'restricted':
        report['restricted'] = restricted(tag)
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
