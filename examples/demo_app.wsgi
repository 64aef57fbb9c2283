# The tutorial's first example (WSGI服务器——wsgiref): wsgiref's demo_app,
# unchanged.  It prints "Hello world!" and then every environ key with its
# value, sorted.  demo_app_source.wsgi is the same code written out.
from wsgiref.simple_server import demo_app

application = demo_app
