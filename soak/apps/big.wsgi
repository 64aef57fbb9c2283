# 1 MiB of deterministic bytes (the client knows their SHA-256).
BODY = bytes(range(256)) * 4096


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return [BODY]
