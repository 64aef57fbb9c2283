# WSGIDispatchScript for t/auth.t: PATH_INFO picks group and callable.
def application_group(environ):
    path = environ.get('PATH_INFO', '')
    if path.startswith('/two'):
        return 'dispatch-two'
    if path.startswith('/global'):
        return '%{GLOBAL}'
    if path.startswith('/empty'):
        return ''                    # mod_wsgi's name for %{GLOBAL}
    return None


def callable_object(environ):
    path = environ.get('PATH_INFO', '')
    if 'wsgi.input' in environ:
        raise AssertionError('a dispatch script must not see the body')
    if path.startswith('/two'):
        return 'second'
    if path.startswith('/raise'):
        raise ValueError('wsl-marker-dispatch-raise')
    if path.startswith('/weird'):
        return 7
    return None
