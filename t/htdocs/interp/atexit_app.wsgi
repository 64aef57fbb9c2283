# t/restart.t: registers an atexit callback in its (sub-)interpreter that
# appends a line to the file named by SetEnv WSL_ATEXIT_FILE (read on the
# first request).  The line names the process and the group, so the test
# can tell that the callback ran when the child exited.
import atexit
import os

_state = {'file': None, 'group': None}


def _on_exit():
    if _state['file']:
        with open(_state['file'], 'a') as fh:
            fh.write('atexit pid=%d group=%s\n' % (os.getpid(),
                                                   _state['group']))


atexit.register(_on_exit)


def application(environ, start_response):
    _state['file'] = environ.get('WSL_ATEXIT_FILE')
    _state['group'] = environ.get('mod_wsgi_lite.application_group')
    body = 'registered pid=%d group=%s' % (os.getpid(), _state['group'])
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode('latin-1')]
