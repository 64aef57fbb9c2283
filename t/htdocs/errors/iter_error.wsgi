# Fails in the middle of the body, after the first chunk.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield b'first chunk'
    raise RuntimeError('wsl-marker-mid-body')
