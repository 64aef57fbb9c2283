# t/proc_threads.t: an application that leaves Python threads behind.
# ?kind=daemon starts a daemon thread that loops forever (time.sleep),
# ?kind=nondaemon a non-daemon one that does the same, ?kind=short a
# non-daemon thread that ends within 0.2 s.  Every interpreter that runs
# this script registers an atexit callback that appends
# "atexit pid=P group=G" to $WSL_MARKER_DIR/atexit.log (SetEnv), so the
# test can tell which interpreters were finalised when the child exited.
import atexit
import os
import threading
import time

_state = {'dir': None, 'group': None}


def _on_exit():
    if _state['dir']:
        with open(os.path.join(_state['dir'], 'atexit.log'), 'a') as fh:
            fh.write('atexit pid=%d group=%s\n' % (os.getpid(),
                                                   _state['group']))


atexit.register(_on_exit)


def forever():
    while True:
        time.sleep(0.05)


def short():
    time.sleep(0.2)


def application(environ, start_response):
    _state['dir'] = environ.get('WSL_MARKER_DIR')
    _state['group'] = environ.get('mod_wsgi_lite.application_group') or '%{GLOBAL}'
    kind = environ.get('QUERY_STRING', '').partition('kind=')[2]
    if kind == 'daemon':
        threading.Thread(target=forever, daemon=True).start()
    elif kind == 'nondaemon':
        threading.Thread(target=forever, daemon=False).start()
    elif kind == 'short':
        threading.Thread(target=short, daemon=False).start()
    body = ('pid=%d group=%s kind=%s' % (os.getpid(), _state['group'],
                                         kind)).encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
