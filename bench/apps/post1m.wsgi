# bench: "post1m", a 1 MiB POST body read fully (one read of CONTENT_LENGTH
# bytes), then the 12 bytes of hello.  A short read is a 400, so a server
# that does not deliver the whole body cannot look fast.  The static twin is
# Apache's own default handler discarding the body of a POST to hello.txt
# (see run.py).
BODY = b"Hello World!"


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = environ["wsgi.input"].read(length)
    if len(data) != length:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"short body\n"]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", "12")])
    return [BODY]
