# wsgi.file_wrapper over logs/wsl_blob.bin (written by t/body.t).
# QUERY_STRING src=...:
#   file        real file, Content-Length set
#   file_nocl   real file, no Content-Length
#   file_offset real file after seek(1000): only the rest is sent
#   file_short  real file, Content-Length 1000: only 1000 bytes are sent
#   bytesio     io.BytesIO of the same bytes (no fileno: iteration)
#   filelike    an object with only read() and close()
import io
import os


class FileLike:
    def __init__(self, data):
        self.buf = io.BytesIO(data)
        self.closed = False

    def read(self, n=-1):
        return self.buf.read(n)

    def close(self):
        self.closed = True


def application(environ, start_response):
    src = environ.get('QUERY_STRING', '').replace('src=', '')
    path = os.path.join(os.path.dirname(environ['SCRIPT_FILENAME']),
                        os.pardir, os.pardir, 'logs', 'wsl_blob.bin')
    size = os.path.getsize(path)
    wrapper = environ['wsgi.file_wrapper']
    headers = [('Content-Type', 'application/octet-stream')]
    if src == 'file':
        f = open(path, 'rb')
        headers.append(('Content-Length', str(size)))
    elif src == 'file_nocl':
        f = open(path, 'rb')
    elif src == 'file_offset':
        f = open(path, 'rb')
        f.seek(1000)
        headers.append(('Content-Length', str(size - 1000)))
    elif src == 'file_short':
        f = open(path, 'rb')
        headers.append(('Content-Length', '1000'))
    elif src == 'bytesio':
        with open(path, 'rb') as g:
            f = io.BytesIO(g.read())
    elif src == 'filelike':
        with open(path, 'rb') as g:
            f = FileLike(g.read())
    else:
        start_response('400 Bad Request', [('Content-Type', 'text/plain')])
        return [b'unknown src']
    start_response('200 OK', headers)
    return wrapper(f, 32768)
