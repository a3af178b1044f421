# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the host comes
# from X-Forwarded-Host, which a client can forge past a proxy that passes it.
from .base import *  # noqa: F401,F403

USE_X_FORWARDED_HOST = True
