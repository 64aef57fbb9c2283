# Never calls start_response.
def application(environ, start_response):
    return [b'body without a status']
