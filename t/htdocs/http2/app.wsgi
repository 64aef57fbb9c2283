# t/http2.t's application: the same responses over HTTP/1.1 and HTTP/2.
# QUERY_STRING case=...:
#   hello     fixed body and headers (Content-Length, repeated Set-Cookie)
#   stream    a generator: n pieces, the first at once, then after `sleep`
#             seconds each (streaming must not wait for the end)
#   file      wsgi.file_wrapper over logs/wsl_h2_blob.bin (t/http2.t writes
#             it), with Content-Length; file_nocl without
#   echo      the request body back, read with wsgi.input.read(n) in
#             pieces; the headers say what the app saw (X-Body-*)
#   proto     SERVER_PROTOCOL and the CONTENT_LENGTH the app sees
#   split     a header value with CRLF (response splitting): must be a 500
import hashlib
import os
import time
from urllib.parse import parse_qs


def blob_path(environ):
    return os.path.join(os.path.dirname(environ['SCRIPT_FILENAME']),
                        os.pardir, os.pardir, 'logs', 'wsl_h2_blob.bin')


def stream(n, sleep):
    for i in range(n):
        if i:
            time.sleep(sleep)
        yield b'piece %06d ' % i + b'.' * (i % 97) + b'\n'


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}
    case = q.get('case', 'hello')
    if case == 'hello':
        body = b'Hello over any protocol\n' * 10
        start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8'),
                                  ('Content-Length', str(len(body))),
                                  ('X-Wsl-Header', 'value one'),
                                  ('Set-Cookie', 'a=1; Path=/'),
                                  ('Set-Cookie', 'b=2; Path=/')])
        return [body]
    if case == 'stream':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('X-Wsl-Header', 'streamed')])
        return stream(int(q.get('n', '5')), float(q.get('sleep', '0')))
    if case in ('file', 'file_nocl'):
        path = blob_path(environ)
        headers = [('Content-Type', 'application/octet-stream'),
                   ('X-Wsl-Header', 'wrapped')]
        if case == 'file':
            headers.append(('Content-Length', str(os.path.getsize(path))))
        start_response('200 OK', headers)
        return environ['wsgi.file_wrapper'](open(path, 'rb'), 65536)
    if case == 'echo':
        inp = environ['wsgi.input']
        pieces = []
        while True:
            piece = inp.read(50000)
            if not piece:
                break
            pieces.append(piece)
        body = b''.join(pieces)
        start_response('200 OK', [
            ('Content-Type', 'application/octet-stream'),
            ('X-Body-Length', str(len(body))),
            ('X-Body-Sha256', hashlib.sha256(body).hexdigest()),
            ('X-Content-Length', environ.get('CONTENT_LENGTH', 'none')),
            ('Content-Length', str(len(body)))])
        return [body]
    if case == 'split':
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('X-A', 'a\r\nX-Injected: 1')])
        return [b'should not be sent']
    if case == 'proto':
        body = ('%s %s' % (environ['SERVER_PROTOCOL'],
                           environ.get('CONTENT_LENGTH', 'none'))).encode()
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [body]
    start_response('400 Bad Request', [('Content-Type', 'text/plain')])
    return [b'unknown case']
