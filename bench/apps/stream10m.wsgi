# bench: "stream10m", 10 MiB streamed by a generator as 160 chunks of 64 KiB.
# The chunks are the 16 distinct 64 KiB pieces of htdocs/body1m.bin, made
# once at import and yielded in turn (10 times over), so the app itself costs
# next to nothing and a server that reorders or drops a chunk fails the
# sha256 check.  Static twin: htdocs/stream10m.bin (body1m.bin 10 times).
import os

HTDOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "htdocs")
CHUNK = 64 * 1024
COUNT = 160
with open(os.path.join(HTDOCS, "body1m.bin"), "rb") as f:
    _one = f.read()
CHUNKS = [_one[i:i + CHUNK] for i in range(0, len(_one), CHUNK)]
LENGTH = str(CHUNK * COUNT)


def _stream():
    for i in range(COUNT):
        yield CHUNKS[i % len(CHUNKS)]


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", LENGTH)])
    return _stream()
