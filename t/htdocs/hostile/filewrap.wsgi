# wsgi.file_wrapper over file-likes that have more than the Content-Length
# the application declares (or no end at all).  QUERY_STRING:
#   devzero  /dev/zero (a character device: endless), Content-Length 10 MiB
#   pipe     the read end of a pipe that a thread keeps filling (up to
#            256 MiB, until the read end is closed), Content-Length 100000
#   bytesio  io.BytesIO of 1 MB, Content-Length 1000
import io
import os
import threading

CHUNK = 65536


def filler(fd):
    block = b'p' * CHUNK
    try:
        for _ in range(4096):
            os.write(fd, block)
    except OSError:
        pass
    finally:
        os.close(fd)


def application(environ, start_response):
    src = environ.get('QUERY_STRING', 'devzero')
    if src == 'pipe':
        r, w = os.pipe()
        threading.Thread(target=filler, args=(w,), daemon=True).start()
        f = os.fdopen(r, 'rb')
        length = 100000
    elif src == 'bytesio':
        f = io.BytesIO(b'b' * 1000000)
        length = 1000
    else:
        f = open('/dev/zero', 'rb')
        length = 10 * 1024 * 1024
    start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                              ('Content-Length', str(length))])
    return environ['wsgi.file_wrapper'](f, CHUNK)
