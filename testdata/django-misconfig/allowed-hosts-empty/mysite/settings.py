# MISCONFIGURED ON PURPOSE (devstack doctor test fixture): DEBUG off with an
# empty ALLOWED_HOSTS refuses every host (Django allows localhost only with
# DEBUG on). Production's other settings are right, so only the host fails.
from .base import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = []
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STATIC_ROOT = BASE_DIR / "staticfiles"
