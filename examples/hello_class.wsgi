# The tutorial's class form: calling the class is the application call;
# its instance is the iterable whose __iter__ produces the body.
# Served with `WSGICallableObject Application` (or callable-object=).
return_res = b'Hello World'


class Application:
    def __init__(self, environ, start_response):
        self.env = environ
        self.sr = start_response

    def __iter__(self):  # the object is iterable
        self.sr("200 OK", [('Content-Type', 'text/plain; charset=utf-8')])
        yield return_res
