# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): a string, not a
# (header, value) pair: Django raises ImproperlyConfigured when it asks for
# the scheme.
from .base import *  # noqa: F401,F403

SECURE_PROXY_SSL_HEADER = "HTTP_X_FORWARDED_PROTO"
