# A generator of many small chunks: n chunks "%08d|" (i), QUERY_STRING n=N.
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    n = int(q.get('n', ['1000'])[0])
    start_response('200 OK', [('Content-Type', 'text/plain')])
    for i in range(n):
        yield b'%08d|' % i
