# An application that removes mod_wsgi.event_callbacks (an odd thing, but
# an attribute like any other) and then fails: its traceback must still be
# logged, though the module's dict is probed for subscribers meanwhile.
import mod_wsgi

del mod_wsgi.event_callbacks


def application(environ, start_response):
    raise RuntimeError('wsl-marker-nocallbacks')
