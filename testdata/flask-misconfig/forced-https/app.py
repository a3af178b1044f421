"""MISCONFIGURED ON PURPOSE (devstack doctor test fixture): a middleware
hard-codes https instead of reading the proxy's X-Forwarded-Proto, so a
plain-http request straight to the gateway (a health check) is taken for
https too."""
from flask import Flask, jsonify, request

def force_https(wsgi_app):
    def middleware(environ, start_response):
        environ["wsgi.url_scheme"] = "https"
        return wsgi_app(environ, start_response)
    return middleware

app = Flask(__name__)
app.wsgi_app = force_https(app.wsgi_app)


@app.route("/")
def whoami():
    return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)
