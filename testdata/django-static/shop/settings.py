"""Settings of the sample shop: static and media files in every usual place."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = 'django-insecure-sample-shop-not-secret'
DEBUG = os.environ.get('SHOP_DEBUG', '1') == '1'
ALLOWED_HOSTS = ['localhost', '127.0.0.1']
SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'django.contrib.staticfiles',
    'catalog',
]

MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
]
if os.environ.get('SHOP_WHITENOISE') == '1':
    MIDDLEWARE.insert(1, 'whitenoise.middleware.WhiteNoiseMiddleware')

ROOT_URLCONF = 'shop.urls'

TEMPLATES = [
    {
        'BACKEND': 'django.template.backends.django.DjangoTemplates',
        'DIRS': [],
        'APP_DIRS': True,
        'OPTIONS': {
            'context_processors': [
                'django.template.context_processors.request',
                'django.contrib.auth.context_processors.auth',
                'django.contrib.messages.context_processors.messages',
            ],
        },
    },
]

WSGI_APPLICATION = 'shop.wsgi.application'

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': BASE_DIR / 'db.sqlite3',
    }
}

USE_TZ = True
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'

STATIC_URL = 'static/'
STATICFILES_DIRS = [
    BASE_DIR / 'assets',
    ('downloads', BASE_DIR / 'downloads'),
]
STATIC_ROOT = BASE_DIR / 'collected'
# SHOP_PUBLISH_BASE_DIR=1: the mistake of listing the project directory,
# which publishes this file (and SECRET_KEY) with the static files.
if os.environ.get('SHOP_PUBLISH_BASE_DIR') == '1':
    STATICFILES_DIRS.append(BASE_DIR)

MEDIA_URL = '/media/'
MEDIA_ROOT = BASE_DIR / 'uploads'

# SHOP_STORAGE=compressed-manifest: collectstatic writes hashed names, a
# manifest and .gz siblings (whitenoise's storage, used without its
# middleware: a production proxy serves STATIC_ROOT).
if os.environ.get('SHOP_STORAGE') == 'compressed-manifest':
    import django

    STATIC_BACKEND = 'whitenoise.storage.CompressedManifestStaticFilesStorage'
    if django.VERSION >= (4, 2):
        STORAGES = {
            'default': {'BACKEND': 'django.core.files.storage.FileSystemStorage'},
            'staticfiles': {'BACKEND': STATIC_BACKEND},
        }
    else:
        STATICFILES_STORAGE = STATIC_BACKEND
