# bench: not timed.  Which interpreter ran the request, as JSON, so that
# bench/pool.py can check that each server runs its apps where its
# configuration says before anything is timed, and print the Python the
# figures were measured on as the server itself reports it:
#   pid          the process (an Apache child)
#   interpreter  environ["mod_wsgi_lite.interpreter"]: the interpreter's
#                index in its application group's pool (None without it)
#   interp_id    Python's own id of the interpreter (None before 3.12)
#   gil          "own" or "shared" (the interpreter's configuration, from
#                the _interpreters module of 3.13, _xxsubinterpreters of
#                3.12), None where Python cannot say
#   version      sys.version; prefix: sys.prefix
# ?sleep=MS holds the request (time.sleep, the GIL released) so that
# requests sent at once are spread over the worker threads.
import json
import os
import sys
import time

try:
    import _interpreters as _interp
except ImportError:
    try:
        import _xxsubinterpreters as _interp
    except ImportError:
        _interp = None


def current_interpreter():
    """(Python's id of this interpreter, "own"/"shared"/None)."""
    if _interp is None:
        return None, None
    try:
        current = _interp.get_current()
        # 3.13: (id, whence); 3.12: an InterpreterID object.
        interp_id = int(current[0] if isinstance(current, tuple)
                        else current)
    except Exception:
        return None, None
    try:
        gil = _interp.get_config(interp_id).gil
    except Exception:
        gil = None
    return interp_id, gil


def application(environ, start_response):
    query = environ.get("QUERY_STRING", "")
    if query.startswith("sleep="):
        time.sleep(int(query[len("sleep="):]) / 1000.0)
    interp_id, gil = current_interpreter()
    body = json.dumps({
        "pid": os.getpid(),
        "interpreter": environ.get("mod_wsgi_lite.interpreter"),
        "interp_id": interp_id,
        "gil": gil,
        "version": sys.version,
        "prefix": sys.prefix,
    }, sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
