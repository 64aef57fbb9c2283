# Deliberately broken: the script cannot be compiled.
def application(environ, start_response:
    return [b'never']
