# stuck_stop.wsgi: t/daemon_lifecycle.t's app for daemons that cannot
# stop: loaded, it registers an atexit handler that never returns (the
# process's main thread is stuck in Python's finalisation once it stops);
# ?csleep=S sleeps S seconds in C (ctypes.CDLL lets the GIL go, and no
# Python code runs to see a signal).  Every answer says which process
# ran it.
import atexit
import ctypes
import json
import os
import time


def never_returns():
    while True:
        time.sleep(3600)


atexit.register(never_returns)


def application(environ, start_response):
    query = environ.get('QUERY_STRING', '')
    if query.startswith('csleep='):
        ctypes.CDLL(None).sleep(int(query[len('csleep='):]))
    body = json.dumps({'pid': os.getpid()}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
