# t/directives_mw.t: a dispatch script that sends every request to this
# process, whatever WSGIProcessGroup says.


def process_group(environ):
    return ''
