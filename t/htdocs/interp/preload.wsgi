# t/directives.t: loaded by WSGIImportScript (in %{GLOBAL}) as each child
# starts, and also mounted at /preload/global.  Records when and where it
# ran in builtins (per interpreter) and counts its executions in a module
# of its own in sys.modules.
import builtins
import os
import sys
import time
import types

_count = sys.modules.setdefault('wsl_preload_count',
                                types.ModuleType('wsl_preload_count'))
_count.n = getattr(_count, 'n', 0) + 1
builtins.wsl_preloaded = {'pid': os.getpid(), 'time': time.time(),
                          'executions': _count.n}


def application(environ, start_response):
    import json
    body = json.dumps({'preloaded': builtins.wsl_preloaded,
                       'executions': _count.n,
                       'pid': os.getpid()}).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
