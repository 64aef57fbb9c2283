# express.t --mode daemon: where and how the application runs, as JSON
# (app.wsgi and venv.wsgi serve it).
# ?sleep=S holds the request S seconds (at most 5), so that several run
# at once.
import json
import os
import sys
import time
import urllib.parse

try:
    # Only in the virtualenv of the --python-home test.
    import wsl_venv_marker
    VENV_MARKER = wsl_venv_marker.TEXT
except ImportError:
    VENV_MARKER = None


def application(environ, start_response):
    import mod_wsgi     # not in the launcher's test import
    query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    sleep = min(float(query.get('sleep', ['0'])[0]), 5.0)
    if sleep > 0:
        time.sleep(sleep)
    body = json.dumps({
        'pid': os.getpid(),
        'ppid': os.getppid(),
        'process_group': environ.get('mod_wsgi.process_group'),
        'threads_per_process': mod_wsgi.threads_per_process,
        'maximum_processes': mod_wsgi.maximum_processes,
        'multiprocess': environ['wsgi.multiprocess'],
        'prefix': sys.prefix,
        'cwd': os.getcwd(),
        'venv_marker': VENV_MARKER,
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
