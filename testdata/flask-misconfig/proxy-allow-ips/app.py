"""MISCONFIGURED ON PURPOSE: gunicorn.conf.py sets proxy_allow_ips (the PROXY
protocol's list) where forwarded_allow_ips was meant. Locally gunicorn's
default trust covers the proxy; in production the load balancer at 10.0.0.5
would not be trusted."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
