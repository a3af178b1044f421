# MISCONFIGURED ON PURPOSE: every interface, so clients can reach gunicorn
# without the proxy and send X-Forwarded-Proto themselves.
bind = "0.0.0.0:8000"
