# t/modwsgi.t: wsgi.file_wrapper over this script's own file, so that the
# test can compare the body with the file.  Under WSGIEnableSendfile On
# the file goes out by sendfile(), Off by reads and writes: the same bytes.
def application(environ, start_response):
    fh = open(__file__, 'rb')
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('X-Sendfile-Key',
                               environ['mod_wsgi.enable_sendfile'])])
    return environ['wsgi.file_wrapper'](fh, 4096)
