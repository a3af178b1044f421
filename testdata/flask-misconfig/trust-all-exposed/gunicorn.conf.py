# The production gunicorn config (devstack binds to loopback locally).
bind = "0.0.0.0:8000"
forwarded_allow_ips = "*"
