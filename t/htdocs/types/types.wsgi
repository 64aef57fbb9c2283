# The module's types as one interpreter sees them (t/types.t): the same
# script in two application groups and in %{GLOBAL}.  QUERY_STRING:
#   info       the types of wsgi.input, wsgi.errors, start_response,
#              wsgi.file_wrapper and sys.stdout.buffer: id, names, repr,
#              and what an application may not do with them
#   send       a wsgi.file_wrapper over a file-like object with a real
#              file descriptor (this script): the server may send the file
#              itself, without calling read()
#   send_iter  the same object without fileno(): the wrapper is iterated
#   probe      how many read() calls each probe closed in this
#              interpreter so far saw, oldest first
import gc
import json
import os
import sys
import weakref

import mod_wsgi
import mod_wsgi_lite

CLOSED_READS = []


class Probe:
    """A file-like object that counts the read() calls made on it."""

    def __init__(self, path):
        self.f = open(path, 'rb')
        self.reads = 0

    def fileno(self):
        return self.f.fileno()

    def tell(self):
        return self.f.tell()

    def read(self, n=-1):
        self.reads += 1
        return self.f.read(n)

    def close(self):
        CLOSED_READS.append(self.reads)
        self.f.close()


class NoFileno(Probe):
    def fileno(self):
        raise OSError('no descriptor')


def refused(action):
    """The exception class name an action raises, or None."""
    try:
        action()
    except Exception as e:
        return type(e).__name__
    return None


def describe(t, instantiable):
    def subclass():
        type('Sub', (t,), {})

    def set_attr():
        t.wsl_added = 1

    return {
        'id': id(t),
        'name': t.__name__,
        'qualname': t.__qualname__,
        'module': t.__module__,
        'repr': repr(t),
        'set_attr': refused(set_attr),
        'subclass': refused(subclass),
        'instantiate': None if instantiable else refused(t),
    }


def cycle_collected(wrapper_type):
    """A wrapper and its file-like object referring to each other."""
    class Holder:
        pass
    h = Holder()
    w = wrapper_type(h)
    h.wrapper = w
    tracked = gc.is_tracked(w)
    ref = weakref.ref(h)
    del h, w
    gc.collect()
    return {'tracked': tracked, 'collected': ref() is None}


def application(environ, start_response):
    action = environ.get('QUERY_STRING', '')
    if action in ('send', 'send_iter'):
        cls = Probe if action == 'send' else NoFileno
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return environ['wsgi.file_wrapper'](cls(__file__), 4096)
    if action == 'probe':
        body = {'closed_reads': CLOSED_READS}
    elif action == 'info':
        wrapper = environ['wsgi.file_wrapper']
        body = {
            'pid': os.getpid(),
            'group': mod_wsgi.application_group,
            'types': {
                'input': describe(type(environ['wsgi.input']), False),
                'errors': describe(type(environ['wsgi.errors']), False),
                'start_response': describe(type(start_response), False),
                'file_wrapper': describe(wrapper, True),
                'stdout_buffer': describe(type(sys.stdout.buffer), False),
            },
            'module_file_wrapper': mod_wsgi.FileWrapper is wrapper
                                   and mod_wsgi_lite.FileWrapper is wrapper,
            'cycle': cycle_collected(wrapper),
        }
    else:
        start_response('400 Bad Request', [('Content-Type', 'text/plain')])
        return [b'unknown action\n']
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(body).encode()]
