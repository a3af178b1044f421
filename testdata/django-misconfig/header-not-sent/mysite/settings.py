# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): X-Forwarded-Protocol
# is a header gunicorn knows, but no proxy in front sends it.
from .base import *  # noqa: F401,F403

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTOCOL", "ssl")
