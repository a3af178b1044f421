# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): the settings
# trust X-Forwarded-Proto while gunicorn.conf.py binds every interface.
from .base import *  # noqa: F401,F403
