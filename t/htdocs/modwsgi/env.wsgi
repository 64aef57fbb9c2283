# t/modwsgi.t: the environ's mod_wsgi.* and apache.* keys, each as [type
# name, value], with the CGI values they derive from and the server's
# clock (microseconds) when the application ran.
import json
import os
import time


def value(v):
    if isinstance(v, tuple):
        return [type(x).__name__ for x in v], list(v)
    return v


def application(environ, start_response):
    now = int(time.time() * 1000000)
    keys = {k: [type(v).__name__, value(v)] for k, v in environ.items()
            if k.startswith('mod_wsgi.') or k.startswith('apache.')}
    report = {
        'keys': keys,
        'now': now,
        'pid': os.getpid(),
        'SCRIPT_NAME': environ['SCRIPT_NAME'],
        'PATH_INFO': environ['PATH_INFO'],
        'SCRIPT_FILENAME': environ['SCRIPT_FILENAME'],
        'GATEWAY_INTERFACE': environ['GATEWAY_INTERFACE'],
        'run_once': repr(environ['wsgi.run_once']),
        'plain': environ.get('WSL_MW_PLAIN'),
        'lite': {k: environ[k] for k in environ
                 if k.startswith('mod_wsgi_lite.') and
                 isinstance(environ[k], str)},
    }
    body = json.dumps(report).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
