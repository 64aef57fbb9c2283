# Response shapes selected by QUERY_STRING (case=...): status lines,
# headers, the write() callable, start_response with exc_info.
import sys


def application(environ, start_response):
    case = environ.get('QUERY_STRING', '').replace('case=', '')
    text = [('Content-Type', 'text/plain')]
    if case == 'created':
        start_response('201 Created', text)
        return [b'made']
    if case == 'reason':
        start_response('200 Fine Thanks', text)
        return [b'custom reason']
    if case == 'teapot':
        start_response('418 I\'m a teapot', text)
        return [b'short and stout']
    if case == 'headers':
        start_response('200 OK', text + [
            ('X-Server', 'MyDemo_app'),
            ('Set-Cookie', 'a=1; Path=/'),
            ('Set-Cookie', 'b=2; Path=/'),
            ('X-Empty', ''),
        ])
        return [b'headers']
    if case == 'latin1':
        start_response('200 OK', text + [('X-Latin', 'caf\xe9')])
        return [b'latin-1 header']
    if case == 'ctype':
        start_response('200 OK', [('Content-Type',
                                   'application/json; charset=utf-8')])
        return [b'{"ok": true}']
    if case == 'write':
        write = start_response('200 OK', text)
        write(b'abc')
        write(b'def')
        return [b'ghi']
    if case == 'write_only':
        write = start_response('200 OK', text)
        for i in range(3):
            write(b'%d' % i * 1000)
        return []
    if case == 'exc_info':
        start_response('200 OK', text)
        try:
            raise ValueError('replaced before any output')
        except ValueError:
            start_response('503 Service Unavailable',
                           [('Content-Type', 'text/plain'),
                            ('X-Recovered', 'yes')], sys.exc_info())
        return [b'recovered']
    if case == 'empty':
        start_response('200 OK', text)
        return []
    if case == 'empty_strings':
        start_response('200 OK', text)
        return [b'', b'a', b'', b'b', b'']
    if case == 'no_content':
        start_response('204 No Content', [])
        return []
    if case == 'not_modified':
        start_response('304 Not Modified', [('ETag', '"v1"')])
        return []
    if case == 'redirect':
        start_response('302 Found', [('Location', 'http://example.com/x'),
                                     ('Content-Type', 'text/plain')])
        return [b'moved']
    if case == 'tuple':
        start_response('200 OK', text)
        return (b'tu', b'ple')
    start_response('400 Bad Request', text)
    return [b'unknown case ' + case.encode('latin-1')]
