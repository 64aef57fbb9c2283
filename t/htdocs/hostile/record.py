# record.py: how the hostile apps tell their test what a thread saw.  One
# line per event appended to $HOSTILE_DIR/hostile-<token>.log (O_APPEND:
# lines from concurrent threads stay whole).
import os


def record(environ, token, line):
    path = os.path.join(environ['HOSTILE_DIR'],
                        'hostile-%s.log' % os.path.basename(token))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + '\n').encode())
    finally:
        os.close(fd)


def outcome(call, *args):
    """The name of the exception call(*args) raised, or 'ok'."""
    try:
        call(*args)
    except BaseException as e:       # noqa: B902 - any type is reported
        return type(e).__name__
    return 'ok'
