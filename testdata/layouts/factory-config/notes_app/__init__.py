"""A factory that takes the name of its configuration, as in many Flask
books: gunicorn cannot call it bare, the root module does."""
from flask import Flask

from config import configs


def create_app(config_name):
    app = Flask(__name__)
    app.config.from_object(configs[config_name])

    @app.get("/")
    def index():
        return f"layout factory-config {app.config['GREETING']}\n"

    return app
