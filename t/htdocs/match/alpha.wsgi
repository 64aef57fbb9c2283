# t/directives.t: WSGIScriptAliasMatch ^/match/([a-z]+) .../match/$1.wsgi
import json


def application(environ, start_response):
    body = json.dumps({
        'script': 'alpha',
        'SCRIPT_NAME': environ.get('SCRIPT_NAME'),
        'PATH_INFO': environ.get('PATH_INFO'),
        'SCRIPT_FILENAME': environ.get('SCRIPT_FILENAME'),
        'group': environ.get('mod_wsgi_lite.application_group'),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
