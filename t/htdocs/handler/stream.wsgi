# Streaming shapes selected by QUERY_STRING: a slow producer (each chunk
# takes a while to make), many small chunks made back to back, an explicit
# flush point (an empty bytes object) before a pause, and large chunks made
# fresh and dropped by the generator at once (the server holds them until
# they are written).
import time

# Sizes around the server's limits: copied (<= 8 KiB) or held, batches of
# up to 1 MiB or 16 chunks, and an empty chunk (a flush point) among them.
LARGE_SIZES = [65536] * 20 + [1, 8192, 8193, 300000, 0, 1048576 + 3,
                                 65536 * 3, 5, 2097152] + [131072] * 17


def large_chunk(i, size):
    # Every chunk different, so one out of place or written twice shows.
    return (b'%07d:' % i * (size // 8 + 1))[:size]


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
    if case == 'large':
        return (large_chunk(i, n) for i, n in enumerate(LARGE_SIZES))
    return [b'?']
