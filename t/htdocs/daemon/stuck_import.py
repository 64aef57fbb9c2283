# stuck_import.py: t/daemon_lifecycle.t's WSGIImportScript that never
# returns: the daemon process's main thread never reaches its signal
# wait.  It says so first, with its pid, in the error log.
import os
import sys
import time

print('stuck_import.py: importing in pid %d, forever' % os.getpid(),
      file=sys.stderr, flush=True)
while True:
    time.sleep(3600)
