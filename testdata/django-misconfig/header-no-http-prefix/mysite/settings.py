# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the META key
# lacks the HTTP_ prefix Django gives request headers, so it is never found.
from .base import *  # noqa: F401,F403

SECURE_PROXY_SSL_HEADER = ("X_FORWARDED_PROTO", "https")
