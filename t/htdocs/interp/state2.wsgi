# t/interp.t: a second script with the same report as state.wsgi, so
# that two different scripts can be compared in one application group.
import json
import os
import sys
import threading

import wsl_interp_state

SCRIPT = 'state2'


def application(environ, start_response):
    tag = environ.get('QUERY_STRING', '')
    if tag.startswith('tag='):
        wsl_interp_state.hits.append(tag[4:])
    shared = sys.modules.get('wsl_interp_state')
    body = json.dumps({
        'script': SCRIPT,
        'group': environ.get('mod_wsgi_lite.application_group'),
        'callable': environ.get('mod_wsgi_lite.callable_object'),
        'pid': os.getpid(),
        'thread': threading.get_ident(),
        'modules_id': id(sys.modules),
        'shared_id': id(shared),
        'same_module': shared is wsl_interp_state,
        'hits': list(wsl_interp_state.hits),
    }).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]


def other(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('other ' + environ.get('mod_wsgi_lite.callable_object', '?')
             + ' ' + environ.get('mod_wsgi_lite.application_group', '?'))
            .encode('latin-1')]
