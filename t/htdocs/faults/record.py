# record.py: how the fault apps tell t/faults.t what happened.  Each app
# appends one line per event ("start <tag> <pid>", "close <tag> <pid>") to
# $FAULTS_DIR/events.log; O_APPEND keeps concurrent lines whole.
import os


def record(environ, event, tag):
    path = os.path.join(environ['FAULTS_DIR'], 'events.log')
    line = '%s %s %d\n' % (event, tag, os.getpid())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
