# Returns a list holding a str instead of bytes.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return ['a str in a list']
