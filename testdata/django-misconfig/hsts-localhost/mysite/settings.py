# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): HSTS in the
# settings devstack runs pins every localhost port to https in the browser.
from .base import *  # noqa: F401,F403

SECURE_HSTS_SECONDS = 3600
