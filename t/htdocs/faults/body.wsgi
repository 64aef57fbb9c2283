# Reads the whole request body inside the iteration, so a client that goes
# away mid-body makes wsgi.input raise there; close() must run anyway.
import hashlib

from record import record


class Body:
    def __init__(self, environ):
        self.environ = environ
        self.tag = environ.get('QUERY_STRING') or 'body'
        record(environ, 'start', self.tag)

    def __iter__(self):
        digest = hashlib.sha256()
        stream = self.environ['wsgi.input']
        while True:
            block = stream.read(65536)
            if not block:
                break
            digest.update(block)
        yield digest.hexdigest().encode()

    def close(self):
        record(self.environ, 'close', self.tag)


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return Body(environ)
