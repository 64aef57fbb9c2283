# Several callables; which one runs depends on WSGICallableObject.
def make(name):
    def app(environ, start_response):
        body = '%s %s' % (name, environ.get('mod_wsgi_lite.callable_object'))
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [body.encode('ascii')]
    return app


application = make('application')
app_dir = make('app_dir')
app_loc = make('app_loc')
app_htaccess = make('app_htaccess')
app_vhost = make('app_vhost')
