# Writes a marker to wsgi.errors (print and writelines too), which must
# land in Apache's error log.
def application(environ, start_response):
    marker = environ.get('QUERY_STRING', '')
    errors = environ['wsgi.errors']
    errors.write('wsl-errors-write %s\n' % marker)
    errors.writelines(['wsl-errors-writelines %s\n' % marker])
    print('wsl-errors-print %s' % marker, file=errors)
    errors.flush()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'logged']
