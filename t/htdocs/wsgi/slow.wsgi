# Sleeps, then answers "id=ID pid=PID tid=TID" (QUERY_STRING id=..&sleep=..).
import os
import threading
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ['QUERY_STRING']).items()}
    time.sleep(float(q.get('sleep', '0')))
    body = 'id=%s pid=%d tid=%d' % (q.get('id'), os.getpid(),
                                    threading.get_ident())
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode('ascii')]
