# The tutorial's first example: wsgiref's demo_app, unchanged.  It prints
# "Hello world!" and then every environ key with its value, sorted.
from wsgiref.simple_server import demo_app

application = demo_app
