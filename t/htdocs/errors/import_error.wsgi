# Fails while the script is being loaded.
raise ImportError('wsl-marker-import')


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'never']
