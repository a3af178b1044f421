"""A Django project in backend/, beside a frontend/ directory."""
import os

SECRET_KEY = "layout-test-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
# Trusted unless the environment says otherwise (a test edits .env).
if os.environ.get("TRUST_PROXY_HEADER", "1") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pages"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DATABASES = {}
USE_TZ = True
GREETING = os.environ.get("GREETING", "")
