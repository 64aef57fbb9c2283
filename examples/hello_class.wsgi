# The tutorial's class form (2. 类实现): calling the class is the application
# call, so __init__ receives environ and start_response, and the instance is
# the iterable whose __iter__ produces the body.
return_res = b'Hello World'


class Application:
    def __init__(self, environ, start_response):
        self.env = environ
        self.sr = start_response

    def __iter__(self):  # the object is iterable
        self.sr("200 OK", [('Content-Type', 'text/plain; charset=utf-8')])
        yield return_res


# The tutorial passes the class itself to make_server(); here the class is
# bound to the default name.  (WSGICallableObject Application, or
# callable-object=Application on WSGIScriptAlias, serves it as well.)
application = Application
