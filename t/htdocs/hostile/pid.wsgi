# The serving process id, as the whole body (with a Content-Length, so a
# keep-alive connection stays open).
import os


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
