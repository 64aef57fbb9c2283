# t/directives.t: the WSGIHandlerScript for *.hsx files.  Reports the file
# the request is for (SCRIPT_FILENAME) and its content.  `handle` is the
# same, for callable-object=handle.
import json


def application(environ, start_response, which='application'):
    path = environ.get('SCRIPT_FILENAME')
    with open(path, 'rb') as fh:
        content = fh.read().decode('latin-1')
    body = json.dumps({
        'callable': which,
        'SCRIPT_FILENAME': path,
        'SCRIPT_NAME': environ.get('SCRIPT_NAME'),
        'PATH_INFO': environ.get('PATH_INFO'),
        'content': content,
        'group': environ.get('mod_wsgi_lite.application_group'),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]


def handle(environ, start_response):
    return application(environ, start_response, 'handle')
