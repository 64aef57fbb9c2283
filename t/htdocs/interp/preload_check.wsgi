# t/directives.t: what WSGIImportScript left in this interpreter.  The
# first request in each interpreter records its own time; the preload must
# have run before it.
import builtins
import json
import os
import sys
import time

first_request = None


def application(environ, start_response):
    global first_request
    if first_request is None:
        first_request = time.time()
    pre = getattr(builtins, 'wsl_preloaded', None)
    count = sys.modules.get('wsl_preload_count')
    body = json.dumps({
        'group': environ.get('mod_wsgi_lite.application_group'),
        'pid': os.getpid(),
        'preloaded': pre,
        'executions': getattr(count, 'n', None),
        'first_request': first_request,
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
