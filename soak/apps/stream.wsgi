# Streams ?<chunks>&<chunk size>&<delay ms> (an iterable with close(), so
# the body is chunked and sent as produced).  Every start and close() is
# appended to $SOAK_EVENTS, so run.py can check that each response that was
# begun, finished or abandoned by its client, had its close() called.
import os
import time

PATTERN = bytes(range(256)) * 256    # 64 KiB


def record(environ, what):
    fd = os.open(environ['SOAK_EVENTS'],
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, what)
    finally:
        os.close(fd)


class Stream:
    def __init__(self, environ, chunks, size, delay):
        self.environ = environ
        self.chunks = chunks
        self.size = size
        self.delay = delay
        record(environ, b's')

    def __iter__(self):
        block = PATTERN[:self.size]
        for _ in range(self.chunks):
            if self.delay:
                time.sleep(self.delay)
            yield block

    def close(self):
        record(self.environ, b'c')


def application(environ, start_response):
    args = (environ.get('QUERY_STRING') or '4&65536&0').split('&')
    chunks, size, delay = int(args[0]), int(args[1]), int(args[2])
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return Stream(environ, chunks, min(size, len(PATTERN)), delay / 1000.0)
