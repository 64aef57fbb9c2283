# Reads the request body in blocks and answers with its SHA-256 and length.
import hashlib


def application(environ, start_response):
    digest = hashlib.sha256()
    stream = environ['wsgi.input']
    total = 0
    while True:
        block = stream.read(65536)
        if not block:
            break
        total += len(block)
        digest.update(block)
    body = ('%s %d' % (digest.hexdigest(), total)).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
