# WSGIPythonPath: modules from the configured directory, and from a
# directory named in a .pth file there (site.addsitedir semantics).
import json
import sys


def application(environ, start_response):
    result = {}
    try:
        import wsl_pathmod
        result['pathmod'] = wsl_pathmod.MARKER
    except ImportError as e:
        result['pathmod'] = 'ImportError: %s' % e
    try:
        import wsl_pthmod
        result['pthmod'] = wsl_pthmod.MARKER
    except ImportError as e:
        result['pthmod'] = 'ImportError: %s' % e
    result['sys_path'] = sys.path
    body = json.dumps(result).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
