# A small Django project for express.t: no database; static files
# collected in static_root/ (served by Apache, not by Django).
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = 'wsl-express-test-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['*']
ROOT_URLCONF = 'djsite.urls'
WSGI_APPLICATION = 'djsite.wsgi.application'
INSTALLED_APPS = []
MIDDLEWARE = ['django.middleware.common.CommonMiddleware']
DATABASES = {}
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
STATIC_URL = '/static/'
STATIC_ROOT = os.path.join(BASE_DIR, 'static_root')
