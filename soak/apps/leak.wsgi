# Leaks on purpose: each request keeps ?<MiB> (default 16) of written
# bytes in a module-level list, so the daemon's resident memory grows
# until memory-limit recycles the process (soak/daemon.py).  Written, not
# just allocated: calloc'd pages that are never touched are not resident.
KEPT = []


def application(environ, start_response):
    mib = int(environ.get('QUERY_STRING') or 16)
    KEPT.append(b'\x01' * (mib << 20))
    body = b'leaked %d MiB, %d kept' % (mib, len(KEPT))
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body)))])
    return [body]
