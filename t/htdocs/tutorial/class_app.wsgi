# Tutorial, "2. 类实现": a class; the instance made from (environ,
# start_response) is the iterable.  Served with WSGICallableObject
# Application.
return_res = b'Hello World'


class Application:
    def __init__(self, environ, start_response):
        self.env = environ
        self.sr = start_response

    def __iter__(self):
        self.sr("200 OK", [('Content-Type', 'text/plain; charset=utf-8')])
        yield return_res
