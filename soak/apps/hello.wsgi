# The smallest response: a list, so Apache sets Content-Length.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'Hello World']
