# t/directives.t: WSGIErrorOverride.  Answers with the status in
# ?status=NNN (default 404) and a body of its own.
def application(environ, start_response):
    qs = environ.get('QUERY_STRING', '')
    status = qs[7:] if qs.startswith('status=') else '404'
    start_response(status + ' App Status', [('Content-Type', 'text/plain'),
                                            ('X-From-App', 'yes')])
    return [b'app body for ' + status.encode('ascii')]
