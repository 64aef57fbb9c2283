# Declares Content-Length: 5 but produces more (QUERY_STRING one|many):
# only the first 5 bytes may be sent.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '5')])
    if environ.get('QUERY_STRING') == 'many':
        return [b'012', b'345', b'6789']
    return [b'0123456789']
