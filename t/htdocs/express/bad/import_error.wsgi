# express.t: an application that cannot be imported.
import wsl_express_no_such_module  # noqa: F401


def application(environ, start_response):
    start_response('200 OK', [])
    return [b'unreachable']
