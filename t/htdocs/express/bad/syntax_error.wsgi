# express.t: a script that does not compile.
def application(environ, start_response)
    return []
