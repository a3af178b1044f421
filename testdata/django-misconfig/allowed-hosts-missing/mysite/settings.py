# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): ALLOWED_HOSTS
# names production's host only, not the localhost the browser uses.
from .base import *  # noqa: F401,F403

ALLOWED_HOSTS = ["example.com"]
