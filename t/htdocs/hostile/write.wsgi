# write() (and start_response) from threads.  QUERY_STRING: case=...&token=T
#   many     4 threads and the main thread each write() 200 records of
#            1 KiB, each record one byte repeated (a..d for the threads, M
#            for the main thread); joined before the app returns [].
#   close    the iterable yields b'the real body'; its close() wakes a
#            thread and sleeps 0.15 s: the thread calls write() every 5 ms
#            for 0.3 s (during close() and after the request ended), and
#            start_response with and without exc_info.
#   biglist  returns an 8 MiB list body (more than the 4 MiB socket buffer) (for a slow reader: Apache is still
#            sending it after the app returned); a thread calls write()
#            every 5 ms for 0.4 s from 20 ms after the return.
# The thread records each call's outcome ("write RuntimeError", "sr ok",
# ...) and finally "done" in hostile-T.log.
import hashlib
import os
import sys
import threading
import time
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(__file__))
from record import record, outcome  # noqa: E402

REC = 1024
BIG = [bytes([0x30 + i]) * (1024 * 1024) for i in range(8)]


def late_writer(environ, token, write, start_response, go, delay, secs):
    go.wait(10)
    time.sleep(delay)
    try:
        raise KeyError('hostile-thread-exc')
    except KeyError:
        exc = sys.exc_info()
    results = []
    end = time.monotonic() + secs
    n = 0
    while time.monotonic() < end:
        results.append('write ' + outcome(write, b'W' * 100))
        n += 1
        if n == 1:
            results.append('sr ' + outcome(start_response, '200 OK', []))
            results.append('sr_exc ' + outcome(start_response, '500 Late',
                                               [], exc))
        time.sleep(0.005)
    # Surely after the end by now.
    results.append('write ' + outcome(write, b'W' * 100))
    results.append('sr ' + outcome(start_response, '200 OK', []))
    results.append('sr_exc ' + outcome(start_response, '500 Late', [], exc))
    record(environ, token, '\n'.join(results + ['done']))


class CloseBody:
    def __init__(self, go):
        self.go = go

    def __iter__(self):
        yield b'the real body'

    def close(self):
        self.go.set()
        time.sleep(0.15)


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    case = q.get('case', ['many'])[0]
    token = q.get('token', ['write'])[0]

    if case == 'many':
        write = start_response('200 OK',
                               [('Content-Type', 'application/octet-stream')])
        errors = []

        def worker(ch):
            rec = bytes([ch]) * REC
            for _ in range(200):
                try:
                    write(rec)
                except Exception as e:
                    errors.append(type(e).__name__)
                    return

        threads = [threading.Thread(target=worker, args=(ord('a') + k,))
                   for k in range(4)]
        for t in threads:
            t.start()
        worker(ord('M'))
        for t in threads:
            t.join()
        if errors:
            record(environ, token, 'errors ' + ' '.join(errors))
        return []

    go = threading.Event()
    if case == 'close':
        write = start_response('200 OK', [('Content-Type', 'text/plain')])
        threading.Thread(target=late_writer,
                         args=(environ, token, write, start_response, go,
                               0.0, 0.3), daemon=True).start()
        return CloseBody(go)

    # biglist
    digest = hashlib.sha256(b''.join(BIG)).hexdigest()
    write = start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                                      ('X-Body-SHA256', digest)])
    threading.Thread(target=late_writer,
                     args=(environ, token, write, start_response, go,
                           0.02, 0.4), daemon=True).start()
    go.set()
    return list(BIG)
