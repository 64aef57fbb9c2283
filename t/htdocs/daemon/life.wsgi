# life.wsgi: t/daemon_lifecycle.t's app.  ?sleep=S sleeps S seconds in
# a function of its own (the name request-timeout's log must show);
# every answer says which process ran it.
# ?grow=MB keeps MB more MiB of bytes alive in the process (resident),
# ?map=MB maps MB more MiB of address space, untouched (virtual only),
# ?spin=S spends S seconds of CPU: memory-limit, virtual-memory-limit and
# cpu-time-limit; ?metrics adds process_metrics()'s daemon_group;
# ?gilsleep=S sleeps S seconds in C without letting go of
# the GIL (ctypes.PyDLL keeps it): deadlock-timeout.
import json
import mmap
import os
import time

_kept = []


def stuck_in_sleep(seconds):
    time.sleep(seconds)


def spin(seconds):
    until = time.process_time() + seconds
    x = 0
    while time.process_time() < until:
        x += 1


def application(environ, start_response):
    query = environ.get('QUERY_STRING', '')
    if query.startswith('sleep='):
        stuck_in_sleep(float(query[len('sleep='):]))
    elif query.startswith('grow='):
        _kept.append(b'x' * (int(query[len('grow='):]) << 20))
    elif query.startswith('map='):
        _kept.append(mmap.mmap(-1, int(query[len('map='):]) << 20))
    elif query.startswith('spin='):
        spin(float(query[len('spin='):]))
    elif query.startswith('gilsleep='):
        import ctypes
        ctypes.PyDLL(None).sleep(int(query[len('gilsleep='):]))
    answer = {
        'pid': os.getpid(),
        'group': environ.get('mod_wsgi.process_group'),
    }
    if query == 'metrics':
        import mod_wsgi
        answer['daemon_group'] = mod_wsgi.process_metrics().get('daemon_group')
    body = json.dumps(answer).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
