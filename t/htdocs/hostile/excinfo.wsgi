# start_response(status, headers, exc_info) with exc_info values that are
# not an exception triple.  QUERY_STRING: <kind>_<when>
#   kind: none    (None, None, None), what sys.exc_info() gives outside
#                 an except block
#         int     (1, 2, 3)
#         str     'not a tuple'
#         notinst (ValueError, 'not an instance', None)
#         real    a real triple (KeyError('hostile-exc-marker'))
#   when: first   the first start_response call has the exc_info
#         again   start_response('200 OK', ...) first, then
#                 start_response('203 Replaced', ..., exc_info), before any
#                 body byte
#         after   a generator: start_response, yield a chunk (the headers
#                 are sent), then start_response('500 ...', ..., exc_info)
import sys


def bad(kind):
    if kind == 'none':
        return (None, None, None)
    if kind == 'int':
        return (1, 2, 3)
    if kind == 'str':
        return 'not a tuple'
    if kind == 'notinst':
        return (ValueError, 'not an instance', None)
    try:
        raise KeyError('hostile-exc-marker')
    except KeyError:
        return sys.exc_info()


HEADERS = [('Content-Type', 'text/plain')]


def application(environ, start_response):
    kind, _, when = environ.get('QUERY_STRING', '').partition('_')
    if when == 'first':
        start_response('200 OK', HEADERS, bad(kind))
        return [b'first body']
    if when == 'again':
        start_response('200 OK', HEADERS)
        start_response('203 Replaced', HEADERS, bad(kind))
        return [b'again body']

    def gen():
        start_response('200 OK', HEADERS)
        yield b'head of body'
        start_response('500 Too Late', HEADERS, bad(kind))
        yield b'never sent'
    return gen()
