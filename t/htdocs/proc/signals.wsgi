# t/proc_signal.t: an application that takes Apache's signals.  At import
# time and again in every request it installs a Python handler for SIGTERM,
# SIGINT, SIGHUP and SIGUSR1 (which, run on Python's main thread, as a
# prefork request is, would replace Apache's own handlers).  It reports
# what each signal.signal() call returned ('handler' when it returned the
# handler it was given) or raised.  ?install=USR2 instead installs a
# handler for SIGUSR2 (which Apache does not use) and reports whether
# signal.getsignal() then returns it.
import json
import os
import signal

SIGNALS = ('SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1')


def handler(signum, frame):
    pass


def take_signals():
    results = {}
    for name in SIGNALS:
        try:
            got = signal.signal(getattr(signal, name), handler)
            results[name] = 'handler' if got is handler else repr(got)
        except Exception as e:
            results[name] = '%s: %s' % (type(e).__name__, e)
    return results


AT_IMPORT = take_signals()


def application(environ, start_response):
    query = environ.get('QUERY_STRING', '')
    out = {'pid': os.getpid(),
           'group': environ.get('mod_wsgi_lite.application_group')}
    if query == 'install=USR2':
        prev = signal.getsignal(signal.SIGUSR2)
        try:
            signal.signal(signal.SIGUSR2, handler)
            out['usr2'] = ('installed' if signal.getsignal(signal.SIGUSR2)
                           is handler else 'not installed')
        except Exception as e:
            out['usr2'] = '%s: %s' % (type(e).__name__, e)
        finally:
            if prev is not None:
                try:
                    signal.signal(signal.SIGUSR2, prev)
                except Exception:
                    pass
    else:
        out['import'] = AT_IMPORT
        out['request'] = take_signals()
    body = json.dumps(out).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
