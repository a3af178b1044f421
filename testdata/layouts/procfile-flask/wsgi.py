"""A Flask app deployed by its Procfile behind the platform's load
balancer, which gunicorn trusts by address. No ProxyFix: the scheme is the
one gunicorn decides from X-Forwarded-Proto."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(layout="procfile-flask", scheme=request.scheme, host=request.host)
