#!/usr/bin/env bash
# Writes the files the release archives carry beside the binary, generated
# from the command definitions by devstack itself: shell completions in
# completions/ and the man page in manpages/. GoReleaser runs it as a
# before-hook; run it by hand to look at them.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# A host binary: the release targets may not run here.
CGO_ENABLED=0 go build -o "$bin/devstack" .

rm -rf completions manpages
mkdir -p completions manpages
for shell in bash zsh fish; do
  "$bin/devstack" completion "$shell" > "completions/devstack.$shell"
done
"$bin/devstack" man > manpages/devstack.1
