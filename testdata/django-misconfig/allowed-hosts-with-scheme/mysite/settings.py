# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): ALLOWED_HOSTS
# entries are bare host names; one with a scheme never matches.
from .base import *  # noqa: F401,F403

ALLOWED_HOSTS = ["https://localhost"]
