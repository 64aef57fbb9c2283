# bench: "hello", the smallest response: a 12-byte body.  The static twin is
# htdocs/hello.txt (the same 12 bytes).  Content-Length is given, as the
# static file's is, so both send the same bytes without chunked framing.
BODY = b"Hello World!"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", "12")])
    return [BODY]
