# The body is fine but the iterable's close() raises.
class Body:
    def __iter__(self):
        yield b'body before a failing close'

    def close(self):
        raise RuntimeError('wsl-marker-close')


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return Body()
