# Calls start_response with the bad headers named by QUERY_STRING.
HEADERS = {
    'int_value': [('X-Num', 5)],
    'bytes_name': [(b'X-Bytes', 'v')],
    'bytes_value': [('X-Bytes', b'v')],
    'none_value': [('X-None', None)],
    'not_tuple': [['X-List', 'v']],
    'triple': [('X-Three', 'a', 'b')],
    'not_list': (('Content-Type', 'text/plain'),),
    'space_name': [('X Bad', 'v')],
    'colon_name': [('X:Bad', 'v')],
    'empty_name': [('', 'v')],
    'cr_value': [('X-A', 'a\rX-Injected: 1')],
    'lf_value': [('X-A', 'a\nX-Injected: 1')],
    'crlf_value': [('X-A', 'a\r\nX-Injected: 1')],
    'nul_value': [('X-A', 'a\x00b')],
    'non_latin1': [('X-A', 'snowman \u2603')],
    'hop_connection': [('Connection', 'keep-alive')],
    'hop_keep_alive': [('Keep-Alive', 'timeout=5')],
    'hop_transfer_encoding': [('Transfer-Encoding', 'chunked')],
    'hop_upgrade': [('Upgrade', 'websocket')],
    'hop_te': [('TE', 'trailers')],
    'hop_trailer': [('Trailer', 'X-Foo')],
    'hop_proxy_authenticate': [('Proxy-Authenticate', 'Basic')],
    'hop_proxy_authorization': [('Proxy-Authorization', 'Basic eA==')],
    'hop_lower_case': [('connection', 'Upgrade')],
    'connection_close': [('Connection', 'Close')],
}


def application(environ, start_response):
    case = environ['QUERY_STRING']
    start_response('200 OK', HEADERS[case])
    # The one case that is valid (security.t) says so.
    return [b'sent' if case == 'connection_close' else b'should not be sent']
