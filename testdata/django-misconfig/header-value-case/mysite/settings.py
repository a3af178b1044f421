# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the proxy sends
# "https"; Django compares the value exactly, so "HTTPS" never matches.
from .base import *  # noqa: F401,F403

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "HTTPS")
