"""MISCONFIGURED ON PURPOSE: production binds gunicorn to every interface and
trusts forwarded headers from anyone ("*"): any client that reaches port
8000 can forge X-Forwarded-Proto and X-Forwarded-For."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
