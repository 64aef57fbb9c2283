# slow_import.py: t/daemon_lifecycle.t's WSGIImportScript for group ho: a
# process of that group takes 1.5 s to start, as a large application's
# preload does, so a recycle that made requests wait for the next process
# would show.
import time

time.sleep(1.5)
