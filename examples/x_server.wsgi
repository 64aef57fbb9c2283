# The tutorial's custom response header (自定义 返回头): by custom, X- names.
return_res = b'Hello World'


class Application:
    def __call__(self, environ, start_response):
        start_response("200 OK", [
            ('Content-Type', 'text/plain; charset=utf-8'),
            ('X-Server', 'MyDemo_app')
        ])
        return [return_res]


application = Application()
