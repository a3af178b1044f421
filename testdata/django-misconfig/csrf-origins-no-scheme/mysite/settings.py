# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# CSRF_TRUSTED_ORIGINS entries lack a scheme: Django 4.0+ requires
# 'https://localhost:8080' (system check 4_0.E001); only Django 3.2 took
# bare host names.
from .base import *  # noqa: F401,F403

CSRF_TRUSTED_ORIGINS = ["localhost:8080"]
