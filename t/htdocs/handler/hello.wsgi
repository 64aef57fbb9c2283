# The smallest app: a fixed body, used as the "server still works" probe.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello World']
