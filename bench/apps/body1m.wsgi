# bench: "body1m", a 1 MiB body returned as one bytes object (made once, at
# import): the server should send the app's bytes as they are, no copy.
# Static twin: htdocs/body1m.bin.
import os

HTDOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "htdocs")
with open(os.path.join(HTDOCS, "body1m.bin"), "rb") as f:
    BODY = f.read()
LENGTH = str(len(BODY))


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", LENGTH)])
    return [BODY]
