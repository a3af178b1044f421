# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# SECURE_PROXY_SSL_HEADER names the header as sent on the wire
# ('X-Forwarded-Proto') instead of its META key ('HTTP_X_FORWARDED_PROTO'):
# Django never finds it and falls back to wsgi.url_scheme.
from .base import *  # noqa: F401,F403

SECURE_PROXY_SSL_HEADER = ('X-Forwarded-Proto', 'https')
