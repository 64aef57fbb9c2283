# t/daemon.t: a WSGIImportScript with process-group=: leaves
# imported.<pid> beside this file in each process that runs it.
import os

open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                  'imported.%d' % os.getpid()), 'w').close()
