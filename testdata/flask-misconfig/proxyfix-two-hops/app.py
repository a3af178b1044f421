"""MISCONFIGURED ON PURPOSE: ProxyFix counts two proxies for X-Forwarded-Proto
and X-Forwarded-For while one is in front: behind a production proxy that
appends to client-sent headers, clients choose the scheme and address the
app sees."""
from flask import Flask, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=2, x_proto=2, x_host=1)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
