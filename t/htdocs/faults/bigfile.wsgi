# Sends $FAULTS_DIR/<QUERY_STRING> through wsgi.file_wrapper (a file
# bucket: sendfile).  The file object records its close(), which the
# wrapper's close() calls.
import io
import os

from record import record


class RecordingFile(io.FileIO):
    def __init__(self, path, environ, tag):
        super().__init__(path, 'r')
        self.environ = environ
        self.tag = tag

    def close(self):
        if not self.closed:
            record(self.environ, 'close', self.tag)
        super().close()


def application(environ, start_response):
    name = environ.get('QUERY_STRING') or 'big.bin'
    tag = 'file-' + name
    path = os.path.join(environ['FAULTS_DIR'], os.path.basename(name))
    record(environ, 'start', tag)
    f = RecordingFile(path, environ, tag)
    start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                              ('Content-Length', str(os.fstat(f.fileno()).st_size))])
    return environ['wsgi.file_wrapper'](f, 65536)
