"""Development settings: what devstack up runs (manage.py's default)."""
from .base import *  # noqa: F401,F403

DEBUG = True
