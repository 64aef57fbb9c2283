# t/modwsgi.t: a subscriber registered at import, as APM agents do.  Each
# event becomes one JSON line in t/logs/modwsgi_events.jsonl (any child
# may serve a request; the test reads the file): the event's name, the
# type of every field, and the values the test checks.  ?wrap-TOKEN: the
# request_started callback returns a wrapper as application_object.
# ?fail-TOKEN: the application raises.  POST bodies are read and echoed.
import json
import os
import time

import mod_wsgi

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                   'logs', 'modwsgi_events.jsonl')

VALUES = ('request_id', 'thread_id', 'daemon_connects', 'daemon_restarts',
          'request_start', 'queue_start', 'daemon_start',
          'application_start', 'response_status', 'input_reads',
          'input_length', 'input_time', 'output_length', 'output_writes',
          'output_time', 'cpu_user_time', 'cpu_system_time',
          'application_finish', 'application_time', 'shutdown_reason')


def record(name, **fields):
    entry = {
        'event': name,
        'pid': os.getpid(),
        'time': time.time(),
        'types': {k: type(v).__name__ for k, v in fields.items()},
        'values': {k: fields[k] for k in VALUES if k in fields},
    }
    data = fields.get('request_data')
    if isinstance(data, dict):
        entry['data'] = {k: v for k, v in data.items()
                         if isinstance(v, (str, int))}
        # The same dict from one event to the next (and request_data()).
        data.setdefault('events', []).append(name)
        entry['data_events'] = list(data['events'])
    if 'response_headers' in fields:
        entry['values']['response_headers'] = [
            list(h) for h in fields['response_headers']]
    if name == 'request_started':
        env = fields['request_environ']
        entry['query'] = env.get('QUERY_STRING')
        entry['environ_request_id'] = env.get('mod_wsgi.request_id')
        entry['app_is_script'] = fields['application_object'] is application
    if name == 'request_exception':
        etype, evalue, tb = fields['exception_info']
        entry['exc'] = [etype.__name__, str(evalue), type(tb).__name__,
                        isinstance(evalue, etype)]
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(entry) + '\n').encode('utf-8'))
    finally:
        os.close(fd)
    if name == 'request_started' and entry['query'].startswith('wrap'):
        inner = fields['application_object']

        def wrapper(environ, start_response):
            return [b'wrapped:'] + list(inner(environ, start_response))
        return {'application_object': wrapper}
    return None


mod_wsgi.subscribe_events(record)


def application(environ, start_response):
    query = environ.get('QUERY_STRING', '')
    data = mod_wsgi.request_data()
    data['query'] = query
    data['environ_thread_id'] = environ['mod_wsgi.thread_id']
    body = environ['wsgi.input'].read()
    if query.startswith('fail'):
        raise ValueError('boom ' + query)
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-Request-Id', environ['mod_wsgi.request_id'])])
    return [b'one ', b'two ', body]
