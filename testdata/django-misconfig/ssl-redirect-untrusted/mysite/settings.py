# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# SECURE_SSL_REDIRECT is on, SECURE_PROXY_SSL_HEADER is missing and
# gunicorn.conf.py trusts only the production load balancer (10.0.0.5), not
# the local proxy: every request looks like http and is redirected to the very
# https URL it came from (ERR_TOO_MANY_REDIRECTS).
from .base import *  # noqa: F401,F403

# The good site sets it; None is Django's default, the same as never setting it.
SECURE_PROXY_SSL_HEADER = None
SECURE_SSL_REDIRECT = True
