# t/interp.t: the PyGILState_* API, as C extensions call it, works in the
# main interpreter (%{GLOBAL}) on an Apache worker thread: the thread's
# GIL-state binding is its main-interpreter thread state, so Check() says
# this thread holds the GIL and a nested Ensure()/Release() pair returns
# at once (PyGILState_LOCKED, 0: "already held") instead of deadlocking.  A thread started by the app works too.
import ctypes
import threading

api = ctypes.pythonapi
api.PyGILState_Check.restype = ctypes.c_int
api.PyGILState_Ensure.restype = ctypes.c_int
api.PyGILState_Release.argtypes = [ctypes.c_int]


def application(environ, start_response):
    check = api.PyGILState_Check()
    state = api.PyGILState_Ensure()
    api.PyGILState_Release(state)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(api.PyGILState_Check()))
    worker.start()
    worker.join(5)
    body = 'check=%d ensure=%d thread=%s' % (check, state, seen)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
