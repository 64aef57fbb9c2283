# Content-Length: 100 but only 5 body bytes.  QUERY_STRING: list|gen
def application(environ, start_response):
    form = environ.get('QUERY_STRING', 'list')
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '100')])
    if form == 'gen':
        def gen():
            yield b'123'
            yield b'45'
        return gen()
    return [b'12345']
