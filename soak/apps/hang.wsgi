# Hangs on purpose: sleeps ?<seconds> (default 30) before it answers, far
# past the daemon's request-timeout in soak/daemon.py.  Bounded, so that
# a server with no request-timeout still ends the run.
import time


def application(environ, start_response):
    time.sleep(float(environ.get('QUERY_STRING') or 30))
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'woke up']
