# The tutorial's function form (1. 函数实现): the application is a function.
return_res = b'Hello World'


def application(environ, start_response):
    start_response("200 OK", [('Content-Type', 'text/plain; charset=utf-8')])
    return [return_res]
