# t/restart.t / t/directives.t: interpreter settings and the behaviour of
# sys.stdout / sys.stdin; WSLTest::embedded_python: which Python this is.  ?print=TEXT prints TEXT; ?stdin reads stdin.
# Each outcome is reported, an exception as its type and message.
import json
import os
import sys


def attempt(fn):
    try:
        return {'ok': True, 'result': fn()}
    except Exception as e:
        return {'ok': False, 'type': type(e).__name__, 'message': str(e)}


def application(environ, start_response):
    qs = environ.get('QUERY_STRING', '')
    report = {
        'pid': os.getpid(),
        'optimize': sys.flags.optimize,
        'prefix': sys.prefix,
        'version': '%d.%d.%d' % sys.version_info[:3],
        'stdlib': os.path.dirname(os.__file__),
        'group': environ.get('mod_wsgi_lite.application_group'),
    }
    if qs.startswith('print='):
        text = qs[6:]
        report['print'] = attempt(lambda: (print(text), sys.stdout.flush(),
                                           None)[2])
    if qs == 'stdin':
        report['stdin'] = attempt(lambda: sys.stdin.read())
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
