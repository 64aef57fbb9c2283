# Returns None instead of an iterable.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return None
