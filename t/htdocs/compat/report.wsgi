# compat.t's application: served unchanged by Debian's mod_wsgi and by
# mod_wsgi_lite, it reports what a WSGI application can see of its host,
# as JSON, for the test to compare key by key:
# - every environ key: its value's type name and its value (JSON types as
#   themselves, tuples and lists of them as lists, anything else as repr);
# - the attributes of the `mod_wsgi` and `apache` modules (import error
#   type if there is none): type, value, callable or not;
# - whether "mod_wsgi" is in sys.modules before the import;
# - sys.stdout, sys.stderr and sys.stdin: what an application or library
#   probes on them (nothing is written or read).
# A HEAD response has no body, so for HEAD the report goes to
# $WSL_COMPAT_DIR/head-<SERVER_PORT>.json instead (SetEnv in compat.t).
import json
import os
import sys

SCALARS = (str, int, float, bool, type(None))


def describe(value):
    """The value as JSON can hold it, or its repr."""
    if isinstance(value, SCALARS):
        return value
    if (isinstance(value, (tuple, list))
            and all(isinstance(v, SCALARS) for v in value)):
        return list(value)
    return repr(value)


def entry(value):
    return {'type': type(value).__name__, 'value': describe(value),
            'callable': callable(value)}


def module_report(name):
    try:
        module = __import__(name)
    except Exception as exc:
        return {'import_error': type(exc).__name__}
    attrs = {}
    for attr in dir(module):
        if attr.startswith('__') and attr.endswith('__'):
            continue   # the import machinery's own (__spec__, __loader__)
        try:
            value = getattr(module, attr)
        except Exception as exc:
            attrs[attr] = {'error': type(exc).__name__}
            continue
        e = entry(value)
        if e['callable']:
            e['value'] = None   # a function's repr holds its address
        attrs[attr] = e
    return {'attributes': attrs}


def probe(stream, what):
    """What stream.what is (attribute) or returns (call), or the type of
    the exception it raises."""
    try:
        value = getattr(stream, what)
        if what in ('isatty', 'fileno', 'readable', 'writable'):
            value = value()
    except Exception as exc:
        return {'raises': type(exc).__name__}
    return {'type': type(value).__name__, 'value': describe(value)}


def stream_report(stream):
    report = {'type': type(stream).__name__,
              'has_buffer': hasattr(stream, 'buffer')}
    for what in ('encoding', 'errors', 'line_buffering', 'isatty', 'fileno',
                 'readable', 'writable'):
        report[what] = probe(stream, what)
    return report


def application(environ, start_response):
    in_sys_modules = 'mod_wsgi' in sys.modules
    report = {
        'environ': {k: {'type': type(v).__name__, 'value': describe(v)}
                    for k, v in environ.items()},
        'mod_wsgi_in_sys_modules': in_sys_modules,
        'modules': {name: module_report(name)
                    for name in ('mod_wsgi', 'apache')},
        'streams': {name: stream_report(getattr(sys, name))
                    for name in ('stdout', 'stderr', 'stdin')},
    }
    if environ.get('wsgi.input') is not None:
        # Read the body, as an application would; its length is compared.
        report['body_length'] = len(environ['wsgi.input'].read())
    body = json.dumps(report, sort_keys=True).encode('ascii')
    if environ['REQUEST_METHOD'] == 'HEAD':
        path = os.path.join(environ['WSL_COMPAT_DIR'],
                            'head-%s.json' % environ['SERVER_PORT'])
        with open(path + '.tmp', 'wb') as f:
            f.write(body)
        os.rename(path + '.tmp', path)
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
