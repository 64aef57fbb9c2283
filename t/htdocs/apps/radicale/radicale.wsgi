"""
Radicale WSGI file (mod_wsgi and uWSGI compliant).

"""

from radicale import application
