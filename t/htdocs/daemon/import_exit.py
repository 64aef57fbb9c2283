# t/daemon.t: a WSGIImportScript with process-group= that makes its
# daemon process die at start-up (os._exit) while the file 'die' exists
# beside it, and leaves one 'start.<pid>' file per attempt.
import os

here = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(here, 'start.%d' % os.getpid()), 'w').close()
if os.path.exists(os.path.join(here, 'die')):
    os._exit(77)
