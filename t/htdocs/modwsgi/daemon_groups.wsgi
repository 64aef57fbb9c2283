# t/modwsgi.t (its own server, two daemon groups and one with
# server-metrics=Off): what server_metrics() says where this runs, a
# daemon of either group or an Apache child, and process_metrics()'s
# daemon_group beside it.
import json
import os

import mod_wsgi


def application(environ, start_response):
    sm = mod_wsgi.server_metrics()
    report = {'pid': os.getpid(),
              'ppid': os.getppid(),
              'group': mod_wsgi.process_group,
              'type': type(sm).__name__,
              'daemon_group': mod_wsgi.process_metrics().get('daemon_group')}
    if isinstance(sm, dict):
        report['keys'] = sorted(sm)
        report['daemon_groups'] = sm.get('daemon_groups')
        if isinstance(sm.get('processes'), list):
            report['scoreboard_pids'] = sorted(
                p['pid'] for p in sm['processes'] if p['pid'])
    body = json.dumps(report).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
