# A generator yielding str instead of bytes.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield 'a str chunk'
