def application(environ, start_response):
    raise RuntimeError('wsl-marker-raise')
