from config.settings.base import *  # noqa: F401,F403

DEBUG = False
WSGI_APPLICATION = "config.prod_wsgi.application"
