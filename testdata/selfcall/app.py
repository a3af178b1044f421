"""An app that reads its environment on every request and calls its own
https URL, as OAuth callbacks and webhooks to self do.

    gunicorn app:app
"""
import os
import urllib.request

from flask import Flask, request

app = Flask(__name__)


def own_url(path):
    # The Host the browser sent (localhost:PORT) names the proxy.
    return "https://" + request.host + path


@app.get("/greeting")
def greeting():
    return os.environ.get("GREETING", "(unset)") + "\n"


@app.get("/self/urllib")
def self_urllib():
    with urllib.request.urlopen(own_url("/greeting"), timeout=10) as resp:
        return "urllib: " + resp.read().decode()


@app.get("/self/requests")
def self_requests():
    import requests

    return "requests: " + requests.get(own_url("/greeting"), timeout=10).text


@app.get("/ca")
def ca():
    names = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")
    return "".join(f"{k}={os.environ.get(k, '')}\n" for k in names)
