# Calls start_response a second time without exc_info.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'twice']
