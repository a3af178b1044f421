"""MISCONFIGURED ON PURPOSE: secure_scheme_headers names the header with
underscores, as some nginx setups send it (proxy_set_header X_Forwarded_Proto):
gunicorn 22 and later drop such headers, and no proxy here sends it."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
