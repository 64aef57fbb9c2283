# bench: "chunks", a generator of 1,000 small chunks of 100 bytes (the
# 100,000 bytes of htdocs/chunks.bin, cut at import).  A server that flushes
# every chunk makes ~1,000 writes per request; one that coalesces what is
# ready makes a few.  run.py counts the server's write system calls.
import os

HTDOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "htdocs")
SIZE = 100
with open(os.path.join(HTDOCS, "chunks.bin"), "rb") as f:
    _all = f.read()
PIECES = [_all[i:i + SIZE] for i in range(0, len(_all), SIZE)]
LENGTH = str(len(_all))


def _stream():
    for piece in PIECES:
        yield piece


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", LENGTH)])
    return _stream()
