# t/modwsgi.t (its own server): process_stopping reaches an event
# subscriber and a shutdown subscriber in each interpreter when the child
# exits; each writes one line to the error log (sys.stderr).  The
# application reports the pid, its group and what server_metrics() says
# (WSGIServerMetrics On in that server).
import json
import os
import sys

import mod_wsgi


def say(via):
    def callback(name, **fields):
        if name == 'process_stopping':
            print('WSL-MW-STOP via=%s event=%s group=%s pid=%d reason=%r '
                  'fields=%s' % (via, name, mod_wsgi.application_group or
                                 '%{GLOBAL}', os.getpid(),
                                 fields.get('shutdown_reason'),
                                 ','.join(sorted(fields))),
                  file=sys.stderr, flush=True)
    return callback


mod_wsgi.subscribe_events(say('events'))
mod_wsgi.subscribe_shutdown(say('shutdown'))


def application(environ, start_response):
    sm = mod_wsgi.server_metrics()
    report = {'pid': os.getpid(),
              'group': mod_wsgi.application_group or '%{GLOBAL}',
              'type': type(sm).__name__}
    if isinstance(sm, dict):
        mine = [p for p in sm['processes'] if p['pid'] == os.getpid()]
        report.update({
            'keys': sorted(sm),
            'types': {k: type(v).__name__ for k, v in sm.items()},
            'nprocesses': len(sm['processes']),
            'server_limit': sm['server_limit'],
            'thread_limit': sm['thread_limit'],
            'mine': len(mine),
            'process_keys': sorted(mine[0]) if mine else [],
            'nworkers': len(mine[0]['workers']) if mine else 0,
            'worker_keys': sorted(mine[0]['workers'][0]) if mine else [],
            'statuses': sorted({w['status'] for p in sm['processes']
                                for w in p['workers']}),
            'my_statuses': sorted({w['status'] for w in mine[0]['workers']})
                           if mine else [],
            'running_time': sm['running_time'],
            'current_time': sm['current_time'],
            'restart_time': sm['restart_time'],
            'daemon_groups': sm['daemon_groups'],
        })
    body = json.dumps(report).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
