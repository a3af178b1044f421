#!/usr/bin/env bash
# The release checks CI runs after the tests (scripts/test.sh calls this):
#  1. the macOS builds: go vet and the test binaries of every package compile
#     for darwin/arm64 and darwin/amd64 (tests themselves only run here);
#  2. .goreleaser.yaml passes `goreleaser check` without a warning;
#  3. a snapshot release builds every archive and the Homebrew cask, the cask
#     is valid Ruby, and the snapshot's linux/amd64 binary prints its version.
# GoReleaser is pinned and built once per machine (scripts/pinned-tool.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"

goreleaser_version=v2.15.1
source scripts/pinned-tool.sh
pinned_tool goreleaser github.com/goreleaser/goreleaser/v2 "$goreleaser_version"
goreleaser="$PWD/.cache/goreleaser-$goreleaser_version/goreleaser"
command -v ruby >/dev/null || { echo "release-check: ruby is missing (scripts/setup.sh installs it)"; exit 1; }

for arch in arm64 amd64; do
  echo "release-check: darwin/$arch: go vet, go test -c"
  GOOS=darwin GOARCH=$arch go vet ./...
  for pkg in $(go list ./...); do
    GOOS=darwin GOARCH=$arch go test -c -o /dev/null "$pkg" >/dev/null
  done
done

echo "release-check: goreleaser check"
out=$("$goreleaser" check 2>&1) || { echo "$out"; exit 1; }
if grep -qiE 'deprecat|warn' <<<"$out"; then
  echo "$out"; echo "release-check: goreleaser check warned"; exit 1
fi

echo "release-check: goreleaser release --snapshot"
log=$(mktemp)
"$goreleaser" release --snapshot --clean --skip=publish >"$log" 2>&1 || { cat "$log"; exit 1; }
rm -f "$log"

cask=dist/homebrew/Casks/devstack.rb
for want in 'binary "devstack"' 'manpage "manpages/devstack.1"' 'bash_completion' 'zsh_completion' 'fish_completion' 'on_linux' 'com.apple.quarantine'; do
  grep -qF "$want" "$cask" || { echo "release-check: $cask has no $want"; cat "$cask"; exit 1; }
done
ruby -c "$cask" >/dev/null

for target in darwin_amd64 darwin_arm64 linux_amd64 linux_arm64; do
  archive=$(ls dist/devstack_*_"$target".tar.gz)
  contents=$(tar tzf "$archive")
  for f in devstack README.md LICENSE completions/devstack.bash completions/devstack.zsh completions/devstack.fish manpages/devstack.1; do
    grep -qxF "$f" <<<"$contents" || { echo "release-check: $archive has no $f"; exit 1; }
  done
done

version=$(jq -r .version dist/metadata.json 2>/dev/null || sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
printed=$(dist/devstack_linux_amd64_v1/devstack version)
case "$printed" in
  "devstack $version (commit "*) ;;
  *) echo "release-check: the snapshot binary printed \"$printed\", want devstack $version"; exit 1 ;;
esac
echo "release-check: ok ($printed)"
