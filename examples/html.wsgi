# The tutorial's web page example (返回网页的例子).
def application(environ, start_response):
    status = '200 OK'
    headers = [('Content-Type', 'text/html;charset=utf-8')]
    start_response(status, headers)
    # return an iterable
    html = '<h1>Hello World</h1>'.encode("utf-8")
    return [html]
