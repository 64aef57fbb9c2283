# t/modwsgi.t: what `import mod_wsgi` and `import apache` give, reported
# with each attribute's type.  Mounted in %{GLOBAL} and in a
# sub-interpreter.  The first lines look at sys.modules before this script
# imports anything: the modules must be there from interpreter creation.
import sys

AT_IMPORT = {name: name in sys.modules
             for name in ('mod_wsgi', 'mod_wsgi_lite', 'apache')}

import json
import os
import threading

import apache
import mod_wsgi
import mod_wsgi_lite

# The script is loaded inside its first request, so request_data()
# already answers here (as under mod_wsgi).
try:
    IMPORT_DATA = type(mod_wsgi.request_data()).__name__
except Exception as exc:
    IMPORT_DATA = 'error %s: %s' % (type(exc).__name__, exc)

MOD_NAMES = ('version', 'process_group', 'application_group',
             'maximum_processes', 'threads_per_process', 'FileWrapper',
             'subscribe_events', 'subscribe_shutdown', 'event_callbacks',
             'shutdown_callbacks', 'active_requests', 'request_data',
             'server_metrics', 'process_metrics', 'request_metrics')
APACHE_NAMES = ('version', 'maximum_processes', 'threads_per_process',
                'description', 'mpm_name', 'build_date')


def describe(value):
    """[type name, a JSON rendering of the value]."""
    kind = type(value).__name__
    if isinstance(value, (str, int, float, bool)) or value is None:
        return [kind, value]
    if isinstance(value, tuple):
        return [kind, [describe(v) for v in value]]
    if isinstance(value, list):
        return [kind, len(value)]
    if isinstance(value, dict):
        return [kind, sorted(value)]
    return [kind, getattr(value, '__name__', repr(value))]


def types_of(d):
    return {k: type(v).__name__ for k, v in d.items()} \
        if isinstance(d, dict) else type(d).__name__


def outside_request():
    """request_data() from a thread of the application's own."""
    out = []

    def run():
        try:
            out.append('returned %r' % (mod_wsgi.request_data(),))
        except Exception as exc:
            out.append('%s: %s' % (type(exc).__name__, exc))

    t = threading.Thread(target=run)
    t.start()
    t.join(5)
    return out[0] if out else 'thread did not finish'


def application(environ, start_response):
    rid = environ['mod_wsgi.request_id']
    data = mod_wsgi.request_data()
    data['seen'] = rid
    pm = mod_wsgi.process_metrics()
    rm1 = mod_wsgi.request_metrics()
    rm2 = mod_wsgi.request_metrics()
    report = {
        'pid': os.getpid(),
        'at_import': AT_IMPORT,
        'in_request': {name: name in sys.modules
                       for name in ('mod_wsgi', 'mod_wsgi_lite', 'apache')},
        'same_module': mod_wsgi is mod_wsgi_lite
                       and sys.modules['mod_wsgi'] is mod_wsgi
                       and sys.modules['mod_wsgi_lite'] is mod_wsgi,
        'name': mod_wsgi.__name__,
        'mod': {n: describe(getattr(mod_wsgi, n)) for n in MOD_NAMES
                if hasattr(mod_wsgi, n)},
        'mod_missing': [n for n in MOD_NAMES if not hasattr(mod_wsgi, n)],
        # This module's own version, beside mod_wsgi's API version.
        'lite_version': describe(getattr(mod_wsgi, 'lite_version', None)),
        'lite_version_is_environs':
            getattr(mod_wsgi, 'lite_version', None)
            == environ['mod_wsgi_lite.version'],
        'apache': {n: describe(getattr(apache, n)) for n in APACHE_NAMES
                   if hasattr(apache, n)},
        'apache_missing': [n for n in APACHE_NAMES if not hasattr(apache, n)],
        'file_wrapper_is_environs':
            mod_wsgi.FileWrapper is environ['wsgi.file_wrapper'],
        'environ_versions_match':
            environ['mod_wsgi.version'] == mod_wsgi.version
            and environ['apache.version'] == apache.version,
        'group': environ['mod_wsgi.application_group'],
        'request_id': rid,
        'data_type': type(data).__name__,
        'data_same': mod_wsgi.request_data() is data,
        'active_is_data': mod_wsgi.active_requests.get(rid) is data,
        'active_keys': sorted(mod_wsgi.active_requests),
        'import_data': IMPORT_DATA,
        'outside': outside_request(),
        'thread_id': environ['mod_wsgi.thread_id'],
        'process_metrics': {
            'types': types_of(pm),
            'pid': pm['pid'],
            'active_requests': pm['active_requests'],
            'request_threads': pm['request_threads'],
            'threads': pm['threads'],
            'request_count': pm['request_count'],
            'request_busy_time': pm['request_busy_time'],
            'restart_time': pm['restart_time'],
            'current_time': pm['current_time'],
            'running_time': pm['running_time'],
            'memory_rss': pm['memory_rss'],
            'memory_max_rss': pm['memory_max_rss'],
        },
        'server_metrics': repr(mod_wsgi.server_metrics()),
        'request_metrics': [types_of(rm1), types_of(rm2)],
        'request_metrics_values': {
            k: rm2.get(k) for k in ('request_threads_maximum', 'queue_time',
                                    'daemon_time', 'pid')},
        'request_metrics_lengths': {
            k: len(rm2[k]) for k in rm2 if isinstance(rm2[k], list)},
    }
    body = json.dumps(report).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
