# t/apps.t: graphite-web's local_settings.py, as Debian ships it in
# /etc/graphite/local_settings.py, with every path moved into the test tree
# (t/logs/apps/graphite, which t/apps.t creates and fills with whisper
# files and the sqlite database before the first request).
import os

_data = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    '..', '..', '..', 'logs', 'apps', 'graphite'))

SECRET_KEY = 'mod_wsgi_lite-test-suite-only'
TIME_ZONE = 'UTC'
LOG_ROTATION = False
DEFAULT_XFILES_FACTOR = 0
GRAPHITE_ROOT = '/usr/share/graphite-web'
CONF_DIR = os.path.join(_data, 'conf')
STORAGE_DIR = os.path.join(_data, 'whisper')
STATIC_ROOT = '/usr/share/graphite-web/static'
LOG_DIR = os.path.join(_data, 'log')
INDEX_FILE = os.path.join(_data, 'search_index')
WHISPER_DIR = os.path.join(_data, 'whisper')
DATABASES = {
    'default': {
        'NAME': os.path.join(_data, 'graphite.db'),
        'ENGINE': 'django.db.backends.sqlite3',
        'USER': '',
        'PASSWORD': '',
        'HOST': '',
        'PORT': ''
    }
}
FUNCTION_PLUGINS = []
