# wsgiref's demo_app as the tutorial prints its source ("查看demo_app源码"):
# "Hello world!", then every environ key with its value, sorted.  The same
# output as demo_app.wsgi, written out by hand.
def demo_app(environ,start_response):
    from io import StringIO
    stdout = StringIO()
    print("Hello world!", file=stdout)
    print(file=stdout)
    h = sorted(environ.items())
    for k,v in h:
        print(k,'=',repr(v), file=stdout)
    start_response("200 OK", [('Content-Type','text/plain; charset=utf-8')])
    return [stdout.getvalue().encode("utf-8")]


application = demo_app
