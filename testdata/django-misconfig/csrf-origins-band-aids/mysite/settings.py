# MISCONFIGURED ON PURPOSE for Django 4.0+ (devstack doctor test fixture):
# CSRF_TRUSTED_ORIGINS entries added to silence a 403, none of which is the
# browser's origin: a trailing slash, the gateway's port, plain http.
from .base import *  # noqa: F401,F403

CSRF_TRUSTED_ORIGINS = ["https://localhost:8080/", "https://localhost:8000", "http://localhost:8080"]
