# Run through WSGIScriptAliasMatch (t/security.t, path escapes).
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'match app; PATH_INFO=' + environ['PATH_INFO'].encode('latin-1')]
