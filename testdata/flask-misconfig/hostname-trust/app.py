"""MISCONFIGURED ON PURPOSE: forwarded_allow_ips names a host, which gunicorn
never matches (20.x), or refuses at start (22+)."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
