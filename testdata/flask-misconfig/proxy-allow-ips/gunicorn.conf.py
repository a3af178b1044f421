# Meant to trust the production load balancer's X-Forwarded-Proto.
proxy_allow_ips = "10.0.0.5"
