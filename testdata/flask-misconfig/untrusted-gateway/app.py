"""MISCONFIGURED ON PURPOSE (devstack doctor test fixture): no ProxyFix, so
the scheme is gunicorn's wsgi.url_scheme, and gunicorn.conf.py trusts only the
production load balancer (10.0.0.5), not the local proxy: the app sees http."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
