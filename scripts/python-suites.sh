#!/usr/bin/env bash
# Unpacks newer Django and gunicorn from Debian's newer suites (trixie and
# sid) into .cache/pysuites/<suite>/, so the tests can run the same app under
# Django 3.2/4.2/5.2 and gunicorn 20/23/26 with the machine's /usr/bin/python3:
#
#   PYTHONPATH=.cache/pysuites/sid/usr/lib/python3/dist-packages /usr/bin/python3 -m gunicorn …
#
# The packages are fetched with `apt-get download` under a private apt state
# (its own sources.list, lists and cache) and unpacked with `dpkg -x`; the
# machine's apt sources and installed packages are never touched. The
# archive signatures are checked against debian-archive-keyring.
#
# Safe and quick to run again: a suite whose unpacked tree still imports is
# kept. --refresh (or DEVSTACK_PYSUITES_REFRESH=1) fetches everything anew.
set -euo pipefail
cd "$(dirname "$0")/.."

root="$PWD/.cache/pysuites"
python=/usr/bin/python3
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${DEVSTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suites=(trixie sid)

# The packages each suite contributes: the framework and gateway, plus the
# pure-Python libraries they need newer than bookworm's (asgiref 3.6 and
# sqlparse 0.4 are too old for Django 5.2; gunicorn 23 imports packaging).
pkgs=(python3-django python3-gunicorn gunicorn python3-asgiref python3-sqlparse
      python3-packaging)

refresh=${DEVSTACK_PYSUITES_REFRESH:-0}
if [ "${1:-}" = "--refresh" ]; then refresh=1; fi

say() { echo "python-suites: $*"; }

# versions DIR prints "django X gunicorn Y" when DIR's tree imports with the
# machine's interpreter, and fails otherwise.
versions() {
  PYTHONPATH="$1/usr/lib/python3/dist-packages" PYTHONNOUSERSITE=1 "$python" -S -c '
import sys
sys.path[:0] = [p for p in sys.argv[1:] if p]
import django, gunicorn
assert django.__file__.startswith(sys.argv[1]), django.__file__
assert gunicorn.__file__.startswith(sys.argv[1]), gunicorn.__file__
print("django", django.__version__, "gunicorn", gunicorn.__version__)
' "$1/usr/lib/python3/dist-packages" /usr/lib/python3/dist-packages 2>&1
}

todo=()
for s in "${suites[@]}"; do
  if [ "$refresh" = 1 ] || [ ! -f "$root/$s/.complete" ] || ! versions "$root/$s" >/dev/null; then
    todo+=("$s")
  fi
done
if [ ${#todo[@]} -eq 0 ]; then
  for s in "${suites[@]}"; do say "$s: $(versions "$root/$s") (cached in .cache/pysuites/$s)"; done
  exit 0
fi

if [ ! -x "$python" ]; then
  say "error: $python not found (install: apt-get install python3)" >&2; exit 1
fi
if [ ! -f "$keyring" ]; then
  say "error: $keyring not found (install: apt-get install debian-archive-keyring)" >&2; exit 1
fi

# A private apt: one state directory for both suites, nothing shared with the
# machine's configuration except the keyring.
apt="$root/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
: >"$apt/status"
{
  for s in "${suites[@]}"; do echo "deb [signed-by=$keyring] $mirror $s main"; done
} >"$apt/sources.list"
aptopts=(
  -o "Dir::Etc::sourcelist=$apt/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State=$apt"
  -o "Dir::State::Lists=$apt/lists"
  -o "Dir::State::status=$apt/status"
  -o "Dir::Cache=$apt/cache"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures=amd64"
  -o "Acquire::Languages=none"
  -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false"
  -o "Acquire::IndexTargets::deb::CNF::DefaultEnabled=false"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=$(id -un)"
)

say "fetching package lists for ${suites[*]} from $mirror"
# apt-get update exits 0 on some fetch failures; -o APT::Update::Error-Mode=any
# is not in bookworm's apt, so check that every suite's list arrived.
apt-get "${aptopts[@]}" -qq update
for s in "${todo[@]}"; do
  if ! ls "$apt/lists/"*"_dists_${s}_main_binary-amd64_Packages"* >/dev/null 2>&1; then
    say "error: no package list for $s (is $mirror reachable?)" >&2; exit 1
  fi
done

for s in "${todo[@]}"; do
  debs="$apt/debs/$s"
  rm -rf "$debs" "$root/$s.new"
  mkdir -p "$debs" "$root/$s.new"
  (cd "$debs" && apt-get "${aptopts[@]}" -qq download "${pkgs[@]/%//$s}")
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root/$s.new"; done
  if ! v=$(versions "$root/$s.new"); then
    # e.g. sid moved to a Python newer than the machine's: keep the last
    # tree that worked, if there is one.
    if [ -f "$root/$s/.complete" ] && old=$(versions "$root/$s"); then
      say "warning: the new $s packages do not import with $python ($(echo "$v" | tail -1)); keeping $old" >&2
      rm -rf "$root/$s.new"
      continue
    fi
    say "error: the $s packages do not import with $python:" >&2
    echo "$v" >&2
    exit 1
  fi
  (cd "$debs" && ls *.deb) >"$root/$s.new/.complete"
  rm -rf "$root/$s"
  mv "$root/$s.new" "$root/$s"
  # Byte-compile as a package install would, so the first import in a test
  # is not also a compile.
  "$python" -m compileall -q "$root/$s/usr/lib/python3/dist-packages" >/dev/null 2>&1 || true
  say "$s: $v (in .cache/pysuites/$s: $(tr '\n' ' ' <"$root/$s/.complete"))"
done
for s in "${suites[@]}"; do
  case " ${todo[*]} " in *" $s "*) ;; *) say "$s: $(versions "$root/$s") (cached in .cache/pysuites/$s)" ;; esac
done
