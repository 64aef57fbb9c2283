# Answers with the serving process id and thread id: "pid tid".
import os
import threading


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%d %d' % (os.getpid(), threading.get_ident())).encode()]
