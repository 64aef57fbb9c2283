# t/proc_group.t: reports the application group this request ran in, the
# process, and how many interpreters the process has (CPython's own list:
# the main interpreter plus every sub-interpreter).  The module holding
# that list is _xxsubinterpreters up to 3.12, _interpreters from 3.13.
import json
import os

try:
    import _interpreters as _subs
except ImportError:
    try:
        import _xxsubinterpreters as _subs
    except ImportError:     # not in every build; the log count still applies
        _subs = None


def application(environ, start_response):
    body = json.dumps({
        'pid': os.getpid(),
        'group': environ.get('mod_wsgi_lite.application_group'),
        'interpreters': len(_subs.list_all()) if _subs else None,
        'host': environ.get('HTTP_HOST'),
        'server_port': environ.get('SERVER_PORT'),
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
