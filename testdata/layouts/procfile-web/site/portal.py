"""Deployed by its Procfile's web line; the module lives in site/, which
the platform's gunicorn reaches with --chdir."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "layout procfile-web\n"
