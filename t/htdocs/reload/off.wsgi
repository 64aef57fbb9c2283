# t/reload.t rewrites this script (in the test's temporary copy) with a
# new version and a newer mtime; this is version 0.
import os


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'version 0 pid=%d' % os.getpid()]
