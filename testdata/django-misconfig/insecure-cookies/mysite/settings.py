# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): production
# settings (DEBUG off) without SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE:
# the cookies would also travel over plain http.
from .base import *  # noqa: F401,F403

DEBUG = False
STATIC_ROOT = BASE_DIR / "staticfiles"
