# The Django project in djproj/, mounted at /django (Debian's python3-django).
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
if here not in sys.path:
    sys.path.insert(0, here)
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'djproj.settings')

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
