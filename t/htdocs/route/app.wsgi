# t/route.t: where a request ran, and what WSGIImportScript left there.
import builtins
import json


def application(environ, start_response):
    body = json.dumps({
        'group': environ['mod_wsgi.application_group'],
        'process_group': environ['mod_wsgi.process_group'],
        # Set by preload.wsgi in the interpreter it ran in, if this is it.
        'preloaded_in': getattr(builtins, 'wsl_route_preloaded_in', None),
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
