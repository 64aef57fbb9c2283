# Application groups: reports the group name, the process, and the value
# kept in module wsl_shared (on WSGIPythonPath) of this interpreter;
# ?set=V stores V there first.  Two requests see the same wsl_shared only
# if they run in the same interpreter.
import json
import os
import sys

import wsl_shared


def application(environ, start_response):
    qs = environ.get('QUERY_STRING', '')
    before = wsl_shared.value
    if qs.startswith('set='):
        wsl_shared.value = qs[4:]
    body = json.dumps({
        'group': environ.get('mod_wsgi_lite.application_group'),
        'pid': os.getpid(),
        'before': before,
        'value': wsl_shared.value,
        'sys_id': id(sys),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
