# The application behind the protected URLs of t/auth.t: says which
# callable ran, for whom, and in which application group.
import json


def _reply(environ, start_response, which):
    rec = environ.get('apache.request_rec')
    body = json.dumps({
        'callable': which,
        'user': environ.get('REMOTE_USER'),
        'auth_type': environ.get('AUTH_TYPE'),
        'group': environ['mod_wsgi_lite.application_group'],
        'request_rec': type(rec).__name__ if rec is not None else None,
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


def application(environ, start_response):
    return _reply(environ, start_response, 'application')


def second(environ, start_response):
    return _reply(environ, start_response, 'second')
