# t/directives_mw.t: the access, auth and dispatch scripts of its
# configurations.  allow_access says it ran (in the error log) and lets
# the request through; the others keep what the configuration says.


def allow_access(environ, host):
    print('wsl-access-script-ran', file=environ['wsgi.errors'])
    return True


def check_password(environ, user, password):
    return None


def groups_for_user(environ, user):
    return []


def application_group(environ):
    return None
