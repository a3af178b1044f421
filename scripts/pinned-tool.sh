# Sourced by scripts/setup.sh and scripts/release-check.sh.
#
# pinned_tool NAME MODULE VERSION builds MODULE@VERSION with `go install`
# once per machine, into a tools cache outside any checkout
# ($DEVSTACK_TOOLS_DIR, else ~/.cache/devstack-tools), and links it to
# .cache/NAME-VERSION/NAME in this checkout, where the tests and the
# release checks look. A fresh clone on the same machine (CI's) reuses the
# build instead of spending minutes on it again.
pinned_tool() {
  local name=$1 module=$2 version=$3
  local tools=${DEVSTACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/devstack-tools}
  local built="$tools/$name-$version/$name"
  local here=".cache/$name-$version/$name"
  if [ ! -x "$built" ]; then
    echo "setup: building $name $version (once per machine, into $tools)"
    mkdir -p "$tools/$name-$version"
    GOFLAGS= GOBIN="$tools/$name-$version" go install "$module@$version"
  fi
  if [ ! -x "$here" ]; then
    mkdir -p "$(dirname "$here")"
    ln -sf "$built" "$here"
  fi
}
