# Streams ?<tag>&<n> chunks of 64 KiB (a generator-like iterable), so a
# client can leave mid-response; close() records that it ran.
from record import record

CHUNK = b'x' * 65536


class Stream:
    def __init__(self, environ, tag, count):
        self.environ = environ
        self.tag = tag
        self.count = count
        record(environ, 'start', tag)

    def __iter__(self):
        for _ in range(self.count):
            yield CHUNK

    def close(self):
        record(self.environ, 'close', self.tag)


def application(environ, start_response):
    tag, _, count = environ.get('QUERY_STRING', '').partition('&')
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return Stream(environ, tag or 'stream', int(count or 16))
