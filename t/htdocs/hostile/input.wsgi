# wsgi.input used from threads.  QUERY_STRING: case=...&token=T
#   late_list  a thread reads wsgi.input 0.2 s after the app returned a
#              small list (the request is over by then)
#   late_send  the app returns an 8 MiB list (for a slow reader: Apache is
#              still sending it); a thread calls read() 50 ms after the
#              return
#   late_line  as late_send, with readline()
#   blocked    a thread calls read() on a body that the client sends
#              slowly; the app returns after 0.1 s without waiting for it
#   twolines   two threads call readline() until the end of the body, at
#              once; joined before the app returns a JSON summary of what
#              they got (lines are b'line-%05d\n'); threads=1 for a
#              control with one thread
# The late/blocked threads record "<method> <outcome>" in hostile-T.log.
import json
import os
import re
import sys
import threading
import time
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(__file__))
from record import record, outcome  # noqa: E402

BIG = [bytes([0x41 + i]) * (1024 * 1024) for i in range(8)]
LINE = re.compile(rb'line-(\d{5})\n\Z')


def late_reader(environ, token, method, delay):
    time.sleep(delay)
    stream = environ['wsgi.input']
    record(environ, token, '%s %s' % (method,
                                      outcome(getattr(stream, method))))


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    case = q.get('case', ['late_list'])[0]
    token = q.get('token', ['input'])[0]
    stream = environ['wsgi.input']

    if case == 'late_list':
        threading.Thread(target=late_reader,
                         args=(environ, token, 'read', 0.2),
                         daemon=True).start()
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'returned']

    if case in ('late_send', 'late_line'):
        method = 'read' if case == 'late_send' else 'readline'
        threading.Thread(target=late_reader,
                         args=(environ, token, method, 0.05),
                         daemon=True).start()
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return list(BIG)

    if case == 'blocked':
        def reader():
            record(environ, token, 'read ' + outcome(stream.read))
        threading.Thread(target=reader, daemon=True).start()
        time.sleep(0.1)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'returned']

    # twolines
    got = [[], []]
    errors = []

    def liner(k):
        try:
            while True:
                line = stream.readline()
                if not line:
                    return
                got[k].append(line)
        except Exception as e:
            errors.append(type(e).__name__)

    nthreads = int(q.get('threads', ['2'])[0])
    threads = [threading.Thread(target=liner, args=(k,))
               for k in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = {}
    torn = 0
    for lines in got:
        for line in lines:
            m = LINE.match(line)
            if not m:
                torn += 1
                continue
            n = int(m.group(1))
            seen[n] = seen.get(n, 0) + 1
    expect = int(q.get('lines', ['2000'])[0])
    body = json.dumps({
        'counts': [len(got[0]), len(got[1])],
        'torn': torn,
        'missing': sum(1 for n in range(expect) if n not in seen),
        'dup': sum(1 for c in seen.values() if c > 1),
        'extra': sum(1 for n in seen if n >= expect),
        'errors': errors,
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]
