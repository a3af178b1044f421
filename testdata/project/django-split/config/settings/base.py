SECRET_KEY = 'fixture-only'
ROOT_URLCONF = 'config.urls'
WSGI_APPLICATION = "config.wsgi.application"
