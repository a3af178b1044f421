# MISCONFIGURED ON PURPOSE for Django 3.2 (devstack doctor test fixture):
# before 4.0 CSRF_TRUSTED_ORIGINS holds host names; an origin never matches.
# Right on Django 4.0 and later.
from .base import *  # noqa: F401,F403

CSRF_TRUSTED_ORIGINS = ["https://localhost:8080"]
