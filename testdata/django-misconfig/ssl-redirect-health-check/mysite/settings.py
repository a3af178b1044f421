# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the scheme is
# trusted, so there is no loop through the proxy, but a health check asking
# the gateway directly over http gets a redirect instead of its answer.
from .base import *  # noqa: F401,F403

SECURE_SSL_REDIRECT = True
