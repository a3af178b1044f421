#!/usr/bin/env bash
# Runs every check devstack's CI runs: installs what the tests need
# (scripts/setup.sh), then gofmt, go vet, staticcheck and the race-enabled
# test suite, end-to-end tests with real gunicorn, Django, curl and Chromium
# included; then the macOS builds and the release (scripts/release-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...
go test -race -count=1 -timeout 30m ./...
bash scripts/release-check.sh
