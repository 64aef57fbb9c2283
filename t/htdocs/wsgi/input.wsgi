# Reads wsgi.input the way QUERY_STRING asks and reports what each call
# returned, as JSON: {"chunks": [latin-1 text...], "bytes": all bytes?}.
#   op=read | readn&n=N | readline | readline_n&n=N | readlines | iter |
#   pastend | mixed | partial&n=N (read N bytes, leave the rest unread)
import json
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}
    op = q.get('op', 'read')
    n = int(q.get('n', '0'))
    inp = environ['wsgi.input']
    chunks = []
    if op == 'read':
        chunks = [inp.read()]
    elif op == 'readn':
        while True:
            c = inp.read(n)
            if not c:
                break
            chunks.append(c)
    elif op == 'readline':
        while True:
            c = inp.readline()
            if not c:
                break
            chunks.append(c)
    elif op == 'readline_n':
        while True:
            c = inp.readline(n)
            if not c:
                break
            chunks.append(c)
    elif op == 'readlines':
        chunks = inp.readlines()
    elif op == 'iter':
        chunks = list(inp)
    elif op == 'pastend':
        chunks = [inp.read(), inp.read(), inp.read(5), inp.readline()]
    elif op == 'mixed':
        chunks = [inp.readline(), inp.read(4), inp.readline(3), inp.read()]
    elif op == 'partial':
        chunks = [inp.read(n)]
    body = json.dumps({
        'chunks': [c.decode('latin-1') for c in chunks],
        'all_bytes': all(type(c) is bytes for c in chunks),
        'content_length': environ.get('CONTENT_LENGTH'),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
