#!/usr/bin/env bash
# Checks that the /openapi.json a real server serves is a document tools accept:
# @apidevtools/swagger-parser must validate it, and `redocly lint` with the recommended
# ruleset must find 0 errors (warnings are listed, not fatal). Runs offline: the tools
# come from tools/node/node_modules, which scripts/install-deps.sh installs.
# Usage: scripts/check-openapi.sh PATH/TO/thunder [OUT_DIR]
# Registered with ctest as openapi_check, so `make test` and CI run it.
set -euo pipefail

thunder=${1:?usage: check-openapi.sh PATH/TO/thunder [OUT_DIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/tools/node"
bin="$tools/node_modules/.bin"

if ! command -v node >/dev/null; then
  echo "check-openapi: node is not installed; run scripts/install-deps.sh" >&2
  exit 1
fi
if [ ! -x "$bin/redocly" ] || [ ! -d "$tools/node_modules/@apidevtools/swagger-parser" ]; then
  echo "check-openapi: the OpenAPI tools are missing from $tools; run scripts/install-deps.sh" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/thunder-openapi.XXXXXX")
out=${2:-$work}
mkdir -p "$out"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server takes a free port and says which one it got.
: >"$work/serve.log"
"$thunder" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/.* is serving at \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -n 1)
  [ -n "$url" ] && break
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "check-openapi: the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
doc="$out/openapi.json"
curl -fsS "${url}openapi.json" -o "$work/served.json"
# Indented, so that the lint's line:column points somewhere readable.
node -e 'const fs = require("fs");
  fs.writeFileSync(process.argv[2], JSON.stringify(JSON.parse(fs.readFileSync(process.argv[1])), null, 2));' \
  "$work/served.json" "$doc"
kill "$server"
wait "$server" 2>/dev/null || true
server=""

# No network at test time: no telemetry, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
failed=0
node "$tools/validate-openapi.mjs" "$doc" || failed=1
# Redocly prints a banner about old Node versions on stdout; the findings follow it.
if ! "$bin/redocly" lint --extends recommended --format stylish "$doc" >"$work/lint.txt" 2>&1; then
  failed=1
fi
grep -v -e '^ *║' -e '^ *╔' -e '^ *╚' "$work/lint.txt" | sed '/^$/N;/^\n$/D'
if [ "$failed" -ne 0 ]; then
  echo "check-openapi: $doc is not accepted (see above)" >&2
  exit 1
fi
echo "check-openapi: swagger-parser and redocly accept $doc"
