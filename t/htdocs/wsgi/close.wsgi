# An iterable whose close() appends a line to logs/close-TOKEN.log, so the
# test can count the calls.  QUERY_STRING: token=T&mode=ok|error|slow
#   ok:    two chunks
#   error: one chunk, then an exception
#   slow:  up to 2000 x 64 KiB chunks, 5 ms apart (for client disconnects)
import os
import time
from urllib.parse import parse_qs


class Body:
    def __init__(self, path, mode):
        self.path = path
        self.mode = mode
        self.sent = 0

    def __iter__(self):
        if self.mode == 'ok':
            yield b'one'
            yield b'two'
        elif self.mode == 'error':
            yield b'partial'
            raise RuntimeError('wsl-marker-iteration-error')
        elif self.mode == 'slow':
            for _ in range(2000):
                self.sent += 1
                yield b'x' * 65536
                time.sleep(0.005)

    def close(self):
        with open(self.path, 'a') as f:
            f.write('closed after %d\n' % self.sent)


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ['QUERY_STRING']).items()}
    logs = os.path.join(os.path.dirname(environ['SCRIPT_FILENAME']),
                        os.pardir, os.pardir, 'logs')
    path = os.path.join(logs, 'close-%s.log' % q['token'])
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return Body(path, q.get('mode', 'ok'))
