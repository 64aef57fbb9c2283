"""t/valgrind/check.py: judge a memcheck log from scripts/valgrind.sh.

    /usr/bin/python3 t/valgrind/check.py memcheck.log TOP

Fails (exit 1) on any invalid read, write or free, on any other memcheck
error with a frame in this module (source under TOP/src or
mod_wsgi_lite.c, or mod_wsgi_lite.so), and on any "definitely lost" block
whose allocation stack has such a frame.  Prints the figures either way.
"""
import re
import sys

ALWAYS_BAD = ('Invalid read', 'Invalid write', 'Invalid free',
              'Mismatched free', 'Source and destination overlap')
ERROR_KINDS = ALWAYS_BAD + ('Conditional jump', 'Use of uninitialised',
                            'Syscall param')


def records(path):
    """Blocks of the log separated by blank ==PID== lines."""
    block = []
    with open(path, errors='replace') as fh:
        for line in fh:
            m = re.match(r'==\d+== ?(.*)', line.rstrip('\n'))
            if not m:
                continue            # generated suppressions, unprefixed
            text = m.group(1)
            if text.strip():
                block.append(text)
            elif block:
                yield block
                block = []
    if block:
        yield block


def main():
    log, top = sys.argv[1], sys.argv[2].rstrip('/')
    ours = re.compile(r'(%s/src/|%s/mod_wsgi_lite\.c|mod_wsgi_lite\.so)'
                      % (re.escape(top), re.escape(top)))
    bad, counts = [], {}
    summary = {}
    for rec in records(log):
        head = rec[0]
        frames = [l for l in rec[1:] if re.match(r'\s+(at|by) 0x', l)]
        in_module = any(ours.search(f) for f in frames)
        if 'definitely lost in loss record' in head:
            kind = 'definitely lost (module)' if in_module \
                else 'definitely lost (elsewhere)'
            counts[kind] = counts.get(kind, 0) + 1
            if in_module:
                bad.append(rec)
            continue
        kind = next((k for k in ERROR_KINDS if head.startswith(k)), None)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
            if kind in ALWAYS_BAD or in_module:
                bad.append(rec)
            continue
        for line in rec:
            for key in ('definitely lost', 'indirectly lost',
                        'possibly lost', 'still reachable', 'suppressed'):
                m = re.match(r'\s*%s: ([\d,]+ bytes in [\d,]+ blocks)' % key,
                             line)
                if m:
                    summary[key] = m.group(1)
            m = re.match(r'ERROR SUMMARY: (\d+) errors from (\d+) contexts'
                         r'(?: \(suppressed: (\d+) from (\d+)\))?', line)
            if m:
                summary['errors'] = m.group(0)
    if 'errors' not in summary:
        print('check.py: no ERROR SUMMARY in %s (valgrind did not finish)'
              % log)
        return 1
    print('valgrind: %s' % summary['errors'])
    for key in ('definitely lost', 'indirectly lost', 'possibly lost',
                'still reachable', 'suppressed'):
        if key in summary:
            print('  %-16s %s' % (key + ':', summary[key]))
    for kind, n in sorted(counts.items()):
        print('  %-28s %d record(s)' % (kind, n))
    for rec in bad:
        print('--- ' + '\n    '.join(rec[:30]))
    print('check.py: %d finding(s) against mod_wsgi_lite' % len(bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
