"""An app factory in the package's __init__.py, the shape of Flask's tutorial.

    gunicorn 'blogr:create_app()'
"""
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev")
    if test_config is not None:
        app.config.update(test_config)

    from . import views
    app.register_blueprint(views.bp)
    return app
