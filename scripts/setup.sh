#!/usr/bin/env bash
# Installs everything devstack's tests and benchmarks need on a fresh Debian
# machine: the real gateway servers and frameworks, real TLS clients, the
# anchor proxies, load generators and Go tools. Safe to run again: what is
# already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi

# Debian packages: bookworm's Django 3.2 / gunicorn 20.1 / Flask / uvicorn are
# the baseline app side; curl, certutil and Chromium are the real TLS clients;
# Caddy and nginx are the anchors the proxy is measured against (wrk for
# HTTP/1.1, h2load from nghttp2-client for HTTP/2); whitenoise
# is the app serving its own static files, which the proxy must leave alone.
# man, zsh and fish check the man page and completions; ruby checks the
# Homebrew cask; lsof is how macOS finds a port's holder, tested here.
debs=(python3 python3-django python3-flask gunicorn uvicorn python3-starlette python3-fastapi
      python3-h11 python3-websockets python3-requests python3-whitenoise curl libnss3-tools ca-certificates
      chromium caddy nginx-light wrk hey nghttp2-client procps psmisc iproute2 git
      man-db zsh fish ruby lsof)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's nginx and caddy packages may start system services; the tests and
# benchmarks run their own instances on free loopback ports.

export PATH="$(go env GOPATH)/bin:$PATH"
command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
go mod download

# A current Caddy for the export tests (Debian's 2.6 lacks request_buffers,
# which the exported Caddyfile uses), built once per machine and linked
# into .cache/.
source scripts/pinned-tool.sh
pinned_tool caddy github.com/caddyserver/caddy/v2/cmd/caddy v2.11.9

# Newer Django/gunicorn from Debian's newer suites, unpacked into a private
# folder (the machine's apt sources stay untouched).
if [ -x scripts/python-suites.sh ]; then
  scripts/python-suites.sh
fi
