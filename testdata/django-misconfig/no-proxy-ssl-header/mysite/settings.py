# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# SECURE_PROXY_SSL_HEADER is missing: Django takes the scheme from
# wsgi.url_scheme alone, so https is seen only while the gateway itself trusts
# the proxy's address (gunicorn's forwarded_allow_ips); behind a proxy it does
# not trust, absolute URLs are http:// and CSRF Origin checks fail.
from .base import *  # noqa: F401,F403

# The good site sets it; None is Django's default, the same as never setting it.
SECURE_PROXY_SSL_HEADER = None
