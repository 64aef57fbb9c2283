# bench: "env", an app that reads 10 environ keys (as a small real app does:
# method, path, query, host, ...) and returns 1 KiB.  The body is the same
# 1 KiB as the static twin htdocs/env.txt, so all servers can be checked by
# sha256; a missing key turns into a 500, so the reads cannot be skipped.
import os

KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
        "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
        "HTTP_HOST", "wsgi.url_scheme")

HTDOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "htdocs")
with open(os.path.join(HTDOCS, "env.txt"), "rb") as f:
    BODY = f.read()
LENGTH = str(len(BODY))


def application(environ, start_response):
    values = [environ.get(key) for key in KEYS]
    if any(value is None for value in values):
        start_response("500 Internal Server Error",
                       [("Content-Type", "text/plain")])
        return [b"missing environ key\n"]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", LENGTH)])
    return [BODY]
