# Defines no object named "application".
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'wrong name']
