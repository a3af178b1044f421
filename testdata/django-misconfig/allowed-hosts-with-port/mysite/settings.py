# MISCONFIGURED ON PURPOSE (devstack doctor test fixture):
# ALLOWED_HOSTS lists 'localhost:8080': Django compares host names
# without their port, so every request gets 400 "Invalid HTTP_HOST header".
from .base import *  # noqa: F401,F403

ALLOWED_HOSTS = ["localhost:8080"]
