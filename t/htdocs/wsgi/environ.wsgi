# Reports the WSGI environ as JSON: every key with its value (str, bool,
# int, None and tuples as themselves, other objects as their type name)
# and its Python type, plus which methods the stream objects offer.
import json


def describe(value):
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, tuple):
        return list(value)
    return '<%s>' % type(value).__name__


def application(environ, start_response):
    report = {
        'environ': {k: describe(v) for k, v in environ.items()},
        'types': {k: type(v).__name__ for k, v in environ.items()},
        'input_methods': [m for m in ('read', 'readline', 'readlines',
                                      '__iter__')
                          if hasattr(environ['wsgi.input'], m)],
        'errors_methods': [m for m in ('write', 'writelines', 'flush')
                           if hasattr(environ['wsgi.errors'], m)],
        'file_wrapper_callable': callable(environ.get('wsgi.file_wrapper')),
    }
    body = json.dumps(report).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
