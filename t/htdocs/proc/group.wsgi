# t/proc_group.t: reports the application group this request ran in, the
# process, and how many interpreters the process has (_xxsubinterpreters,
# CPython's own list: the main interpreter plus every sub-interpreter).
import json
import os

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
