#!/usr/bin/env bash
# Runs devstack on the bundled sample Django site (testdata/django-site):
#
#   scripts/sample.sh            # then open https://localhost:8080
#   scripts/sample.sh --port 9443
#
# Installs Django and gunicorn first if no Python here has them (with apt-get
# on Debian/Ubuntu; elsewhere it says what to install). Extra arguments go to
# `devstack up`.
set -euo pipefail
cd "$(dirname "$0")/.."

has_django() {
  local py
  for py in /usr/bin/python3 /usr/local/bin/python3 python3; do
    command -v "$py" >/dev/null 2>&1 && "$py" -c 'import django, gunicorn' 2>/dev/null && return 0
  done
  return 1
}

if ! has_django; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    echo "sample: installing python3-django and gunicorn"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-django gunicorn >/dev/null
  else
    echo "sample: no Python with Django and gunicorn found" >&2
    echo "sample: install them, e.g.: python3 -m pip install django gunicorn" >&2
    exit 1
  fi
fi

exec go run . up --dir testdata/django-site "$@"
