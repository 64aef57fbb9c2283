# Streaming shapes selected by QUERY_STRING: a slow producer (each chunk
# takes a while to make), many small chunks made back to back, and an
# explicit flush point (an empty bytes object) before a pause.
import time


def application(environ, start_response):
    case = environ.get('QUERY_STRING', '')
    start_response('200 OK', [('Content-Type', 'text/plain')])
    if case == 'slow':
        def slow():
            yield b'first\n'
            time.sleep(1.0)
            yield b'second\n'
        return slow()
    if case == 'small':
        return (b'%099d\n' % i for i in range(1000))
    if case == 'explicit':
        def explicit():
            yield b'head\n'
            yield b'burst\n'
            yield b''
            time.sleep(1.0)
            yield b'tail\n'
        return explicit()
    return [b'?']
