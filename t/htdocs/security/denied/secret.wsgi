# wsl-secret-source
# Outside the DocumentRoot and every script directory: no URL may run this
# file or show its source (t/security.t, path escapes).  The marker is
# built at run time so the source itself does not contain it.
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('wsl-' + 'escaped').encode('ascii')]
