# t/directives.t: WSGIMapHEADToGET.  Echoes REQUEST_METHOD in X-Method and
# in the body.
def application(environ, start_response):
    method = environ['REQUEST_METHOD']
    body = ('method=%s\n' % method).encode('ascii') * 20
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-Method', method)])
    return [body]
