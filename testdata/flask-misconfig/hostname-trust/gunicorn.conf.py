# gunicorn compares the connecting IP address with each entry.
forwarded_allow_ips = "localhost"
