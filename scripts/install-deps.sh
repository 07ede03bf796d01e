#!/usr/bin/env bash
# Installs every Debian package Spring Thunder needs to build, test and run; with --bench,
# also the peers `make bench` measures against (Redis, PostgreSQL, nginx, wrk). Then the
# npm tools the tests run (OpenAPI validation and lint), pinned by tools/node/package-lock.json,
# into tools/node/node_modules, so that tests need no network.
# Idempotent: when nothing is missing it prints nothing and exits 0.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libsimdjson-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  prometheus-cpp-dev libxxhash-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  curl clang libclang-rt-14-dev
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(redis-server redis-tools postgresql nginx wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node may come from elsewhere (NodeSource bundles npm into its nodejs package): only
# when a command is missing is Debian's package asked for.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# The npm tools. @redocly/cli 2.x needs Node 20.19+ (or 22.12+).
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/tools/node"
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
IFS=. read -r node_major node_minor _ <<<"$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "install-deps: Node $node_version is too old for the OpenAPI tools in tools/node" \
       "(they need 20.19 or later); install a newer nodejs and run this again" >&2
  exit 1
fi
# npm writes node_modules/.package-lock.json last: without it, or when it is older than
# the committed lock file, the folder is (re)installed exactly as the lock file says.
installed="$tools/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$tools/package-lock.json" -nt "$installed" ]; then
  echo "install-deps: installing the npm tools into tools/node"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >/dev/null
  echo "install-deps: done"
fi
exit 0
