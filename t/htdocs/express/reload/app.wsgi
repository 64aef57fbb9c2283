# express.t --reload-on-changes: the text comes from an imported module,
# which WSGIScriptReloading alone would not reload; the launcher's
# graceful restart does.
import os

import greeting


def application(environ, start_response):
    body = f'{greeting.TEXT} pid={os.getpid()}'.encode()
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
