# Kills the process that runs it: ?segv dereferences NULL (ctypes),
# ?exit calls os._exit(1).  Anything else answers with the pid.
import ctypes
import os


def application(environ, start_response):
    how = environ.get('QUERY_STRING')
    if how == 'segv':
        ctypes.string_at(0)
    elif how == 'exit':
        os._exit(1)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [str(os.getpid()).encode()]
