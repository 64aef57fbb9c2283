# Reads the whole request body in 64 KiB pieces and reports its length and
# SHA-256; with ?echo=1 sends the body back instead.
import hashlib
import json


def application(environ, start_response):
    inp = environ['wsgi.input']
    digest = hashlib.sha256()
    size = 0
    parts = []
    echo = environ.get('QUERY_STRING') == 'echo=1'
    while True:
        piece = inp.read(65536)
        if not piece:
            break
        size += len(piece)
        digest.update(piece)
        if echo:
            parts.append(piece)
    if echo:
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return parts
    body = json.dumps({
        'length': size,
        'sha256': digest.hexdigest(),
        'content_length': environ.get('CONTENT_LENGTH'),
        'input_terminated': environ.get('wsgi.input_terminated'),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
