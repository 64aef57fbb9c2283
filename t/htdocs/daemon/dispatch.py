# t/daemon.t: WSGIDispatchScript choosing the daemon group by ?g=NAME
# (the empty name: embedded).  Runs in the Apache child.
from urllib.parse import parse_qs


def process_group(environ):
    return parse_qs(environ.get('QUERY_STRING', '')).get('g', [''])[0]
