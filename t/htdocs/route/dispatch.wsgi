# t/route.t: a dispatch script whose process_group() comes from the query
# string, so one script can name this process or a daemon group.
from urllib.parse import parse_qs


def process_group(environ):
    qs = parse_qs(environ.get('QUERY_STRING', ''), keep_blank_values=True)
    return qs['pg'][0] if 'pg' in qs else None
