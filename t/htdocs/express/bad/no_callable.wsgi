# express.t: a script without the callable (application).
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'found by --callable-object app']
