# Calls start_response with the status named by QUERY_STRING.
STATUSES = {
    'no_reason': '200',
    'no_code': 'OK',
    'two_digits': '20 OK',
    'four_digits': '2000 OK',
    'letters': 'abc OK',
    'no_space': '200OK',
    'bytes': b'200 OK',
    'int': 200,
    'crlf': '200 OK\r\nX-Injected: 1',
}


def application(environ, start_response):
    start_response(STATUSES[environ['QUERY_STRING']],
                   [('Content-Type', 'text/plain')])
    return [b'should not be sent']
