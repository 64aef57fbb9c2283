# life.wsgi: t/daemon_lifecycle.t's app.  ?sleep=S sleeps S seconds in
# a function of its own (the name request-timeout's log must show);
# every answer says which process ran it.
import json
import os
import time


def stuck_in_sleep(seconds):
    time.sleep(seconds)


def application(environ, start_response):
    query = environ.get('QUERY_STRING', '')
    if query.startswith('sleep='):
        stuck_in_sleep(float(query[len('sleep='):]))
    body = json.dumps({
        'pid': os.getpid(),
        'group': environ.get('mod_wsgi.process_group'),
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
