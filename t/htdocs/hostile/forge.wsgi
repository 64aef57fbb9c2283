# close() of the returned iterable calls write() with bytes that look like
# a whole HTTP response.  The body has ended by then, so write() must raise
# RuntimeError and nothing of it may reach the connection (where a client
# on a keep-alive connection would take it as the answer to its next
# request).  QUERY_STRING: mode=list|gen|clen&token=T
#   list: a list subclass (one chunk; an exact list has no close() to call)
#   gen:  a generator-like iterable of two chunks (chunked)
#   clen: the list subclass with the application's own Content-Length: 9
#         (the response is framed by it)
# close() records what write() did in hostile-T.log, then lets the
# exception propagate (so it is logged).
import os
import sys
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(__file__))
from record import record  # noqa: E402

FORGED = b'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged'


class ListBody(list):
    def __init__(self, items, write, environ, token):
        super().__init__(items)
        self.write = write
        self.environ = environ
        self.token = token

    def close(self):
        forge(self)


class GenBody:
    def __init__(self, write, environ, token):
        self.write = write
        self.environ = environ
        self.token = token

    def __iter__(self):
        yield b'real '
        yield b'body'

    def close(self):
        forge(self)


def forge(body):
    try:
        body.write(FORGED)
    except BaseException as e:
        record(body.environ, body.token, 'write ' + type(e).__name__)
        raise
    record(body.environ, body.token, 'write ok')


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    mode = q.get('mode', ['gen'])[0]
    token = q.get('token', ['forge'])[0]
    headers = [('Content-Type', 'text/plain')]
    if mode == 'clen':
        headers.append(('Content-Length', '9'))
    write = start_response('200 OK', headers)
    if mode in ('list', 'clen'):
        return ListBody([b'real body'], write, environ, token)
    return GenBody(write, environ, token)
