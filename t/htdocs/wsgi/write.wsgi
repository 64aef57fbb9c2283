# The write() callable for most of the body (three 100 000-byte writes of
# 'a', 'b', 'c'), then an iterable for the rest ('d' * 10).
def application(environ, start_response):
    write = start_response('200 OK', [('Content-Type', 'text/plain')])
    for ch in (b'a', b'b', b'c'):
        write(ch * 100000)
    return [b'd' * 10]
