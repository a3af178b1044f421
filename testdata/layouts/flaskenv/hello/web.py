from flask import Flask


def make_app(flavour):
    app = Flask(__name__)

    @app.get("/")
    def index():
        return f"layout flaskenv {flavour}\n"

    return app
