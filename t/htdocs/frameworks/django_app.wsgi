# The Django project in djproj/, mounted at /django (Debian's python3-django).
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
if here not in sys.path:
    sys.path.insert(0, here)
# Assigned, not setdefault() as Django's generated wsgi.py does: another
# Django application in the same process (graphite-web in %{GLOBAL}, for
# t/apps.t) sets the variable in the process environment, which every
# sub-interpreter created later copies into its os.environ; mod_wsgi's
# documentation gives the same advice for several Django sites in one
# process.
os.environ['DJANGO_SETTINGS_MODULE'] = 'djproj.settings'

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
