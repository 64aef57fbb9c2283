# Minimal Django settings: no database, no templates of our own.
SECRET_KEY = 'wsl-test-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['*']
ROOT_URLCONF = 'djproj.urls'
INSTALLED_APPS = []
MIDDLEWARE = ['django.middleware.common.CommonMiddleware']
DATABASES = {}
USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
