# bench: "filewrapper", wsgi.file_wrapper of a 100 MiB file, the same file
# the static server sends (htdocs/big100m.bin): the server may send it with
# sendfile, as Apache's own static path does.
import os

HTDOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "htdocs")
PATH = os.path.join(HTDOCS, "big100m.bin")
LENGTH = str(os.path.getsize(PATH))


def application(environ, start_response):
    f = open(PATH, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", LENGTH)])
    return environ["wsgi.file_wrapper"](f, 64 * 1024)
