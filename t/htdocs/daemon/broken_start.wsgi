# broken_start.wsgi: t/daemon_lifecycle.t's app that never loads (its
# import fails), for startup-timeout.
raise RuntimeError('broken_start.wsgi: this application fails to load, '
                   'as asked')
