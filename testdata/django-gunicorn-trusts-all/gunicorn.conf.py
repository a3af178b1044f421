# Trust X-Forwarded-Proto from every address: only the proxy reaches the
# gateway (it listens on loopback here, on a private network in production).
forwarded_allow_ips = "*"
