# Correct, though it sets no SECURE_PROXY_SSL_HEADER: Django takes the
# scheme from wsgi.url_scheme, which gunicorn sets from X-Forwarded-Proto
# because gunicorn.conf.py trusts every address, whichever proxy is in front.
from .base import *  # noqa: F401,F403

# The good site sets it; None is Django's default, the same as never setting it.
SECURE_PROXY_SSL_HEADER = None
