# t/security.t's application.  Every call first writes a marker line to
# wsgi.errors ("wsl-sec-ran case=... tag=..."), so a test can tell from the
# error_log whether Python ran at all for a request and how many requests
# it saw.  QUERY_STRING case=... selects what it does:
#   env       environ (HTTP_*, CGI keys) and the request body as read
#   read      reads the body, letting any error propagate
#   status    start_response with the bad status line STATUS[k]
#   header    start_response with the bad header HEADERS[k]
#   ctype     a Content-Type computed here, whose str is dropped and its
#             memory churned before the first non-empty body bytes
#             (CVE-2014-0242)
#   ids       the process ids the app runs with (CVE-2014-0240)
import gc
import json
import os
from urllib.parse import parse_qs

STATUS = {
    'crlf': '200 OK\r\nX-Injected: 1',
    'lf': '200 OK\nX-Injected: 1',
    'cr': '200 OK\rX-Injected: 1',
    'nul': '200 OK\x00X-Injected: 1',
    'crlfcrlf': '200 OK\r\n\r\n<html>injected body',
}

HEADERS = {
    'value_crlf': [('X-A', 'a\r\nX-Injected: 1')],
    'value_lf': [('X-A', 'a\nX-Injected: 1')],
    'value_cr': [('X-A', 'a\rX-Injected: 1')],
    'value_nul': [('X-A', 'a\x00X-Injected: 1')],
    'value_crlfcrlf': [('X-A', 'a\r\n\r\n<html>injected body')],
    'ctype_crlf': [('Content-Type', 'text/html\r\nX-Injected: 1')],
    'clen_crlf': [('Content-Length', '5\r\nX-Injected: 1')],
    'location_crlf': [('Location', '/x\r\nX-Injected: 1')],
    'cookie_lf': [('Set-Cookie', 'a=1\nX-Injected: 1')],
    'name_crlf': [('X-A\r\nX-Injected', '1')],
    'name_space': [('X Injected', '1')],
    'name_colon': [('X-Injected:', '1')],
    'name_inner_colon': [('X-Injected: 1\r\nX-B', '1')],
    'name_tab': [('X-Injected\t', '1')],
    'name_empty': [('', '1')],
    'name_leading_space': [(' X-Injected', '1')],
    'name_nul': [('X-Injected\x00', '1')],
    'name_del': [('X-Injected\x7f', '1')],
    'hop_connection': [('Connection', 'keep-alive')],
    'hop_keep_alive': [('Keep-Alive', 'timeout=5, max=1000')],
    'hop_transfer_encoding': [('Transfer-Encoding', 'chunked')],
    'hop_upgrade': [('Upgrade', 'h2c')],
    'hop_te': [('TE', 'trailers')],
    'hop_trailer': [('Trailer', 'X-Injected')],
    'hop_proxy_authenticate': [('Proxy-Authenticate', 'Basic realm="x"')],
    'hop_proxy_authorization': [('Proxy-Authorization', 'Basic eDp5')],
    'hop_proxy_connection': [('Proxy-Connection', 'keep-alive')],
    'hop_mixed_case': [('cOnNeCtIoN', 'keep-alive')],
    'hop_trailers': [('Trailers', 'X-Injected')],
}


def read_body(environ):
    """The body as the app gets it: bytes read, or the error raised."""
    try:
        data = environ['wsgi.input'].read()
        return {'len': len(data), 'text': data[:200].decode('latin-1'),
                'error': None}
    except Exception as exc:
        return {'len': None, 'text': None,
                'error': '%s: %s' % (type(exc).__name__, exc)}


def as_json(start_response, report):
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


def churned_ctype(environ, start_response, spec):
    # Build the value at run time (no constant the compiler could keep
    # alive), hand it over, drop every reference, then allocate and free
    # many strings of the same size so freed memory is reused before the
    # first non-empty body bytes go out: the window of CVE-2014-0242.
    value = ''.join(chr(ord(c)) for c in spec)
    start_response('200 OK', [('Content-Type', value),
                              ('X-Echo-Length', str(len(value)))])
    del value
    gc.collect()
    junk = [('Z' * len(spec)) + str(i) for i in range(2000)]
    del junk
    junk = [bytearray(b'\xff' * (len(spec) + 64)) for i in range(2000)]
    del junk
    yield b''
    yield spec.encode('latin-1')


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', ''),
                                       keep_blank_values=True).items()}
    case = q.get('case', 'env')
    environ['wsgi.errors'].write('wsl-sec-ran case=%s tag=%s\n'
                                 % (case, q.get('tag', '')))
    environ['wsgi.errors'].flush()
    if case == 'env':
        report = {k: v for k, v in environ.items()
                  if isinstance(v, str)}
        report['wsl.body'] = body = read_body(environ)
        environ['wsgi.errors'].write('wsl-sec-body tag=%s len=%s error=%s\n'
                                     % (q.get('tag', ''), body['len'],
                                        body['error']))
        return as_json(start_response, report)
    if case == 'read':
        # No try: an error reading the body propagates to the server.
        data = environ['wsgi.input'].read()
        environ['wsgi.errors'].write('wsl-sec-read tag=%s len=%d\n'
                                     % (q.get('tag', ''), len(data)))
        return as_json(start_response, {'len': len(data)})
    if case == 'status':
        start_response(STATUS[q['k']], [('Content-Type', 'text/plain')])
        return [b'should not be sent']
    if case == 'header':
        start_response('200 OK', HEADERS[q['k']])
        return [b'should not be sent']
    if case == 'ctype':
        return churned_ctype(environ, start_response, q['v'])
    if case == 'ids':
        return as_json(start_response, {
            'pid': os.getpid(), 'uid': os.getuid(), 'euid': os.geteuid(),
            'gid': os.getgid(), 'egid': os.getegid(),
            'resuid': list(os.getresuid()), 'resgid': list(os.getresgid()),
            'groups': os.getgroups(),
        })
    start_response('400 Bad Request', [('Content-Type', 'text/plain')])
    return [b'unknown case']
