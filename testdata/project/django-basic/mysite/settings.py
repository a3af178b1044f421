SECRET_KEY = 'fixture-only'
DEBUG = True
ALLOWED_HOSTS = []
ROOT_URLCONF = 'mysite.urls'
# WSGI_APPLICATION = 'commented.out.application'
WSGI_APPLICATION = 'mysite.wsgi.application'
