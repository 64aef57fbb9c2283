# The tutorial's third form (3. 类实现，可调用对象): an instance with __call__.
return_res = b'Hello World'


class Application:
    def __call__(self, environ, start_response):
        start_response("200 OK", [('Content-Type', 'text/plain; charset=utf-8')])
        return [return_res]


application = Application()
