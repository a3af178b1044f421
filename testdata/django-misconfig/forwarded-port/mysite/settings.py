# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# USE_X_FORWARDED_PORT = True, but no proxy in front sends X-Forwarded-Port
# (devstack's and Caddy's never do, nginx only when told): Django's
# request.get_port() is then the gateway's port, not the browser's.
from .base import *  # noqa: F401,F403

USE_X_FORWARDED_PORT = True
