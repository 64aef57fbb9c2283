# A module-level cache of big bytes objects, returned as the response list
# itself while something else replaces its items.  QUERY_STRING:
#   mode=thread&seed=S  fill the cache (8 x 4 MiB, item i all bytes
#                       (S*8+i) % 251 + 1), return it; 50 ms later a thread
#                       replaces its items (odd S: cache[:] = new objects;
#                       even S: cache.clear()), runs gc.collect() and
#                       allocates 32 MiB of 0xdd bytes, held for 0.3 s
#   mode=hold&seed=S    fill the cache and return it, no thread
#   mode=replace&seed=S replace the cache's items with new objects (another
#                       request in the same interpreter), collect, allocate
#                       as above; answers with its pid
# The list responses carry X-Body-SHA256 and X-Body-Length of what was
# returned, computed before returning, and X-Pid.
#
# The child's malloc is told to give every allocation of 1 MiB or more its
# own mapping, for good (glibc otherwise raises that threshold after the
# first such free, and a freed item's memory then lingers unchanged in a
# thread's arena): an item let go is unmapped at once, and the new objects
# are mapped, often at the same addresses.  A server that still points
# into a released item then sends other bytes, or fails with EFAULT,
# every time rather than once in a while.  (Only the test's own server
# loads this script.)
import ctypes
import gc
import hashlib
import os
import threading
import time
from urllib.parse import parse_qs

M_MMAP_THRESHOLD = -3
try:
    ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
except (OSError, AttributeError):
    pass

SIZE = 4 * 1024 * 1024
COUNT = 8
cache = []


def fill(seed):
    return [bytes([(seed * COUNT + i) % 251 + 1]) * SIZE
            for i in range(COUNT)]


def churn(byte, hold):
    gc.collect()
    junk = [bytes([byte]) * SIZE for _ in range(COUNT)]
    time.sleep(hold)
    del junk


def spoiler(seed):
    time.sleep(0.05)
    if seed % 2:
        cache[:] = [b'\xee' * SIZE for _ in range(COUNT)]
    else:
        cache.clear()
    churn(0xdd, 0.3)


def application(environ, start_response):
    q = parse_qs(environ.get('QUERY_STRING', ''))
    mode = q.get('mode', ['hold'])[0]
    seed = int(q.get('seed', ['0'])[0])
    pid = str(os.getpid())
    if mode == 'replace':
        cache[:] = [b'\xcc' * SIZE for _ in range(COUNT)]
        churn(0xbb, 0.0)
        body = pid.encode()
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', str(len(body)))])
        return [body]
    cache[:] = fill(seed)
    digest = hashlib.sha256()
    for item in cache:
        digest.update(item)
    start_response('200 OK', [
        ('Content-Type', 'application/octet-stream'),
        ('X-Body-SHA256', digest.hexdigest()),
        ('X-Body-Length', str(SIZE * COUNT)),
        ('X-Pid', pid)])
    if mode == 'thread':
        threading.Thread(target=spoiler, args=(seed,), daemon=True).start()
    return cache
