# The production gunicorn config, kept unchanged for local runs: it trusts
# X-Forwarded-Proto only from the production load balancer.
forwarded_allow_ips = "10.0.0.5"
