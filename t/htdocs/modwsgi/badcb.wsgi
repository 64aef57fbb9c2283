# t/modwsgi.t: a subscriber that raises on every event.  The failures are
# logged with their tracebacks; the request answers all the same.
import mod_wsgi


def broken(name, **fields):
    raise RuntimeError('wsl-broken-callback in ' + name)


def fine(name, **fields):
    # Still called after the broken one: one failure stops nothing.
    if name == 'request_started':
        fields['request_data']['fine'] = 'called'


mod_wsgi.subscribe_events(broken)
mod_wsgi.subscribe_events(fine)


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'answered; fine=' +
            mod_wsgi.request_data().get('fine', 'missing').encode()]
