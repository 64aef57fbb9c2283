# t/directives_mw.t: what the process-wide directives (WSGIDontWriteBytecode,
# WSGIPythonEggs, WSGISwitchInterval, WSGINewRelicConfigFile) did to the
# interpreter running this request.  ?import=NAME imports NAME from
# WSGIPythonPath and lists what Python cached beside it (__pycache__).
import importlib
import json
import os
import sys


def newrelic_calls():
    # The test's stand-in agent records its initialize() calls; None when
    # there is no agent on the path.
    try:
        import newrelic.agent
    except ImportError:
        return None
    return newrelic.agent.calls


def application(environ, start_response):
    qs = environ.get('QUERY_STRING', '')
    report = {
        'pid': os.getpid(),
        'group': environ.get('mod_wsgi_lite.application_group'),
        'dont_write_bytecode': sys.dont_write_bytecode,
        'flags_dont_write_bytecode': sys.flags.dont_write_bytecode,
        'egg_cache': os.environ.get('PYTHON_EGG_CACHE'),
        'switch_interval': sys.getswitchinterval(),
        'newrelic_calls': newrelic_calls(),
    }
    if qs.startswith('import='):
        module = importlib.import_module(qs[len('import='):])
        cache = os.path.join(os.path.dirname(module.__file__), '__pycache__')
        report['pycache'] = (sorted(os.listdir(cache))
                             if os.path.isdir(cache) else [])
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
