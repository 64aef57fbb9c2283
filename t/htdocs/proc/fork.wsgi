# t/proc_fork.t: os.fork() and os.forkpty() from an application, and
# subprocess.  ?do=fork (or forkpty) forks; the forked child writes
# fork-<its pid>.txt into $WSL_MARKER_DIR (SetEnv) and leaves with
# os._exit(0); the parent waits for it at most 3 s (then SIGKILLs it, so
# nothing is left behind) and reports how it ended, or reports the
# exception os.fork() raised.  ?do=subprocess runs /bin/true.
import json
import os
import signal
import subprocess
import time


def child(marker_dir):
    try:
        if marker_dir:
            with open(os.path.join(marker_dir, 'fork-%d.txt' % os.getpid()),
                      'w') as fh:
                fh.write('forked from %d\n' % os.getppid())
    finally:
        os._exit(0)


def reap(pid):
    deadline = time.time() + 3
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFEXITED(status):
                return 'exited %d' % os.WEXITSTATUS(status)
            return 'killed by signal %d' % os.WTERMSIG(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return 'hung (killed after 3 s)'


def application(environ, start_response):
    do = environ.get('QUERY_STRING', '').partition('do=')[2]
    marker_dir = environ.get('WSL_MARKER_DIR')
    out = {'pid': os.getpid(),
           'group': environ.get('mod_wsgi_lite.application_group')}
    try:
        if do == 'fork':
            pid = os.fork()
            if pid == 0:
                child(marker_dir)
            out['child'] = pid
            out['result'] = reap(pid)
        elif do == 'forkpty':
            pid, fd = os.forkpty()
            if pid == 0:
                child(marker_dir)
            os.close(fd)
            out['child'] = pid
            out['result'] = reap(pid)
        elif do == 'subprocess':
            out['result'] = 'returncode %d' % subprocess.run(
                ['/bin/true'], timeout=10).returncode
    except Exception as e:
        out['result'] = '%s: %s' % (type(e).__name__, e)
    body = json.dumps(out).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
