# An example WSGI for use with mod_wsgi, edit as necessary
# See https://mercurial-scm.org/wiki/modwsgi for more information
#
# t/apps.t: Mercurial's contrib/hgweb.wsgi, changed only in the config
# path: t/apps.t writes the hgweb config into the test tree
# (t/logs/apps/hg/hgweb.config) before the first request.
import os

# Path to repo or hgweb config to serve (see 'hg help hgweb')
config = os.fsencode(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  '..', '..', '..', 'logs', 'apps', 'hg',
                                  'hgweb.config'))

# Uncomment and adjust if Mercurial is not installed system-wide
# (consult "installed modules" path from 'hg debuginstall'):
#import sys; sys.path.insert(0, "/path/to/python/lib")

# enable demandloading to reduce startup time
from mercurial import demandimport; demandimport.enable()

from mercurial.hgweb import hgweb
application = hgweb(config)
