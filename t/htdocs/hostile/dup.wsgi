# Singleton response headers given twice.  QUERY_STRING:
#   cl_diff   Content-Length 5 and 100 (body of 5 bytes)
#   ct_diff   Content-Type text/plain and text/html
#   loc_diff  302 with two different Location values
#   cl_same   Content-Length 5 twice (body of 5 bytes)
#   cookies   three Set-Cookie headers (a list header: all are sent)
def application(environ, start_response):
    case = environ.get('QUERY_STRING', '')
    status = '200 OK'
    headers = [('Content-Type', 'text/plain')]
    body = b'12345'
    if case == 'cl_diff':
        headers += [('Content-Length', '5'), ('Content-Length', '100')]
    elif case == 'ct_diff':
        headers = [('Content-Type', 'text/plain'),
                   ('Content-Type', 'text/html')]
    elif case == 'loc_diff':
        status = '302 Found'
        headers += [('Location', 'http://example.com/a'),
                    ('Location', 'http://example.com/b')]
    elif case == 'cl_same':
        headers += [('Content-Length', '5'), ('Content-Length', '5')]
    elif case == 'cookies':
        headers += [('Set-Cookie', 'a=1; Path=/'),
                    ('Set-Cookie', 'b=2; Path=/'),
                    ('Set-Cookie', 'c=3; Path=/')]
    start_response(status, headers)
    return [body]
