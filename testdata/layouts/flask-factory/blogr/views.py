from flask import Blueprint

bp = Blueprint("views", __name__)


@bp.get("/")
def index():
    return "layout flask-factory\n"
