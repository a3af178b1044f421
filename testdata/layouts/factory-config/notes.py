import os

from notes_app import create_app

app = create_app(os.getenv("NOTES_CONFIG") or "default")
