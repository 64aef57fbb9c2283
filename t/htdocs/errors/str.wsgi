# Returns a str instead of an iterable of bytes.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return 'a str body'
