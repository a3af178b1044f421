"""A Flask app behind one reverse proxy, reporting what it sees.

ProxyFix trusts exactly one hop of X-Forwarded-For/-Proto/-Host: the TLS
proxy in front (devstack locally, Caddy or nginx in production).

    gunicorn app:app
"""
import flask
from flask import Flask, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def describe():
    forwarded = {k: v for k, v in sorted(request.headers.items())
                 if k.lower().startswith('x-forwarded-') or k.lower() == 'forwarded'}
    return {
        'framework': 'flask',
        'flask_version': getattr(flask, '__version__', None),
        'scheme': request.scheme,
        'is_secure': request.is_secure,
        'host': request.host,
        'remote_addr': request.remote_addr,
        'absolute_uri': request.url,
        'forwarded_headers': forwarded,
    }


@app.get('/')
@app.get('/whoami/')
def whoami():
    return jsonify(describe())
