"""t/valgrind/load.py: a short, bounded, mixed load for scripts/valgrind.sh.

    /usr/bin/python3 t/valgrind/load.py PORT [ROUNDS]

Each round sends one request of every kind below over a fresh loopback
connection and checks its status and body size; ROUNDS (default 25) times
len(KINDS) requests in all, each with a 120 s timeout (valgrind is slow).
Prints one line per kind and exits non-zero if any request failed.
"""
import http.client
import os
import sys
import time

BODY = os.urandom(64 * 1024)

# name, method, path, body, expected status, expected body length (or None)
KINDS = [
    ('hello', 'GET', '/hello', None, 200, 11),
    ('hello_head', 'HEAD', '/hello', None, 200, 0),
    ('post_64k', 'POST', '/echo_sha?echo=1', BODY, 200, len(BODY)),
    ('post_lines', 'POST', '/input?op=iter', b'a\nbb\nccc\n' * 100, 200,
     None),
    ('post_partial', 'POST', '/input?op=partial&n=10', BODY, 200, None),
    ('stream_gen', 'GET', '/gen?n=2000', None, 200, 2000 * 9),
    ('write', 'GET', '/write', None, 200, 300010),
    ('file_wrapper', 'GET', '/filewrap?src=file', None, 200, 1 << 20),
    ('file_wrapper_bytesio', 'GET', '/filewrap?src=bytesio', None, 200,
     1 << 20),
    ('error_raise', 'GET', '/raise', None, 500, None),
    ('error_crlf_header', 'GET', '/header?crlf_value', None, 500, None),
    ('error_status', 'GET', '/header?hop_connection', None, 500, None),
    ('environ', 'GET', '/environ/x/y?q=1', None, 200, None),
]


def one(port, method, path, body):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    try:
        headers = {'X-Test': 'valgrind', 'X_Spoof': '1'}
        if body is not None:
            headers['Content-Type'] = 'application/octet-stream'
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, len(data)
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    counts = {k[0]: [0, 0] for k in KINDS}   # ok, failed
    start = time.monotonic()
    for _ in range(rounds):
        for name, method, path, body, status, length in KINDS:
            try:
                got_status, got_len = one(port, method, path, body)
                ok = got_status == status and (length is None or
                                                got_len == length)
                if not ok:
                    print(f'{name}: got {got_status} / {got_len} bytes, '
                          f'want {status} / {length}', file=sys.stderr)
            except OSError as exc:
                print(f'{name}: {exc!r}', file=sys.stderr)
                ok = False
            counts[name][0 if ok else 1] += 1
    total = sum(a + b for a, b in counts.values())
    failed = sum(b for _, b in counts.values())
    for name, (ok, bad) in counts.items():
        print(f'  {name:22s} {ok:4d} ok {bad:4d} failed')
    print(f'load.py: {total} requests, {failed} failed, '
          f'{time.monotonic() - start:.0f}s')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
