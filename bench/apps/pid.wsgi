# bench: not timed.  The pid of the process that runs the application, so
# that run.py can check where each WSGI server runs it: in a daemon
# process for the daemon-mode servers, in an Apache child for the others
# (a daemon server that ran its apps embedded would measure the wrong
# thing and still answer every scenario right).
import os


def application(environ, start_response):
    body = str(os.getpid()).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
