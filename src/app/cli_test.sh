#!/usr/bin/env bash
# End-to-end test of the thunder binary as a user runs it: help, first start printing the
# admin token once (and only once it listens), serving, graceful SIGTERM, token creation,
# listing, expiry and revocation, token commands on a directory without a store, CSV import.
# Usage: cli_test.sh THUNDER_BINARY EXAMPLES_DIR
set -uo pipefail
thunder=$1
examples=$2
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

# Starts `thunder $@` in the background and waits for its URL line.
start_server() {
  "$thunder" "$@" >"$work/out" 2>"$work/err" &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'is serving at' "$work/out" 2>/dev/null && break
    sleep 0.1
  done
  url=$(grep -o 'http://[^ ]*/' "$work/out" | head -1)
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  stop_status=$?
  server_pid=""
}

"$thunder" --help >"$work/help" 2>&1
check "help exits 0" test $? -eq 0
check "help lists subcommands" grep -q 'demo' "$work/help"
"$thunder" import products --help >"$work/help2" 2>&1
check "import help names the columns" grep -q 'list_price_fen' "$work/help2"

# First start prints an admin token once; the second does not.
start_server serve --data-dir "$work/d1" --listen 127.0.0.1:0
token=$(grep -o 'st_[0-9a-f]\{64\}' "$work/out" | head -1)
check "first start prints a token" test -n "$token"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "${url}v1/belts")
check "token lists belts" test "$code" = 200
check "empty list" grep -q '"items":\[\]' "$work/body"
# A first start that cannot listen (the port is taken) stores no admin token: the next
# first start still prints one.
port=$(echo "$url" | grep -o ':[0-9]*/$' | tr -d ':/')
"$thunder" serve --data-dir "$work/d2" --listen "127.0.0.1:$port" >"$work/busy" 2>&1
check "serve on a taken port fails" test $? -eq 1
check "and prints no token" bash -c "! grep -q 'st_' '$work/busy'"
"$thunder" admin token list --data-dir "$work/d2" >"$work/d2list" 2>&1
check "and stores none" bash -c "! grep -q 'first admin token' '$work/d2list'"
stop_server
check "SIGTERM stops cleanly" test "$stop_status" -eq 0
check "says stopped" grep -q 'Stopped' "$work/out"
start_server serve --data-dir "$work/d1" --listen 127.0.0.1:0
check "second start prints no token" bash -c "! grep -q 'st_' '$work/out'"
stop_server
start_server serve --data-dir "$work/d2" --listen 127.0.0.1:0
check "first start after a failed one prints a token" grep -q 'st_[0-9a-f]\{64\}' "$work/out"
stop_server

# Token commands need an existing store: they never create an empty one.
for cmd in "create --role admin" "list" "revoke 1"; do
  "$thunder" admin token $cmd --data-dir "$work/nowhere" >"$work/nostore" 2>&1
  check "token $cmd without a store fails" test $? -eq 1
  check "token $cmd names the directory" grep -q "data directory $work/nowhere holds no store" "$work/nostore"
done
check "and creates nothing" test ! -e "$work/nowhere"

# Tokens are listed without their secrets, may expire, and may be revoked.
"$thunder" admin token create --role trainer --label 'course room' --expires-in 2h \
  --data-dir "$work/d1" >"$work/tok" 2>"$work/tokerr"
check "token with an expiry exits 0" test $? -eq 0
trainer=$(cat "$work/tok")
"$thunder" admin token create --role trainer --expires-in soon --data-dir "$work/d1" >"$work/tok" 2>&1
check "a bad duration fails" test $? -eq 1
check "and says how" grep -q '90s, 15m, 12h, 30d' "$work/tok"
"$thunder" admin token create --role trainer --expires-at 2001-01-01T00:00:00Z --data-dir "$work/d1" >"$work/tok" 2>&1
check "an expiry in the past fails" test $? -eq 1
"$thunder" admin token list --data-dir "$work/d1" >"$work/list" 2>&1
check "list exits 0" test $? -eq 0
check "list has a header" grep -q '^ID  *ROLE  *SCOPE  *LABEL  *CREATED  *EXPIRES  *REVOKED' "$work/list"
check "list shows the first admin token" grep -q 'first admin token' "$work/list"
check "list shows the expiry" grep -q 'course room.*Z  *[0-9-]*T[0-9:.]*Z  *-$' "$work/list"
check "list shows no secret" bash -c "! grep -q -e 'st_' -e '[0-9a-f]\{64\}' '$work/list'"
trainer_id=$(awk '/course room/ {print $1}' "$work/list")
start_server serve --data-dir "$work/d1" --listen 127.0.0.1:0
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $trainer" "${url}v1/belts")
check "the trainer token works" test "$code" = 200
"$thunder" admin token revoke "$trainer_id" --data-dir "$work/d1" >"$work/rev" 2>&1
check "revoke exits 0" test $? -eq 0
sleep 1.2
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $trainer" "${url}v1/belts")
check "the running server refuses a revoked token within a second" test "$code" = 401
stop_server
"$thunder" admin token revoke 999 --data-dir "$work/d1" >"$work/rev" 2>&1
check "revoking an unknown id fails" test $? -eq 1
check "and says so" grep -q 'token 999 does not exist' "$work/rev"
"$thunder" admin token list --data-dir "$work/d1" >"$work/list" 2>&1
check "list shows the revocation" bash -c "grep 'course room' '$work/list' | grep -q 'Z$'"

"$thunder" admin token create --role factory --scope 99 --data-dir "$work/d1" >"$work/tok" 2>&1
check "token for a missing factory fails" test $? -eq 1
check "and says why" grep -q 'factory 99 does not exist' "$work/tok"
"$thunder" serve --data-dir "$work/d1" --listen nonsense >"$work/bad" 2>&1
check "bad --listen fails" test $? -eq 1
check "and says how" grep -q 'host:port' "$work/bad"

# The demo seeds Zhejiang, then the example files import into it, once.
start_server demo --data-dir "$work/demo" --listen 127.0.0.1:0
token=$(grep -o 'st_[0-9a-f]\{64\}' "$work/out" | head -1)
curl -s -H "Authorization: Bearer $token" "${url}v1/belts?limit=200" >"$work/belts"
check "demo serves Zhejiang belts" grep -q 'Zhuji Datang socks' "$work/belts"
stop_server
"$thunder" import factories "$examples/factories.csv" --data-dir "$work/demo" >"$work/imp" 2>&1
check "factories import exits 0" test $? -eq 0
check "three created" grep -q '3 records, 3 created' "$work/imp"
"$thunder" import products "$examples/products.csv" --data-dir "$work/demo" >"$work/imp" 2>&1
check "products import exits 0" test $? -eq 0
"$thunder" import factories "$examples/factories.csv" --data-dir "$work/demo" >"$work/imp" 2>&1
check "re-import creates nothing" grep -q '0 created, 3 already present' "$work/imp"
printf 'name,belt,city\nGood Mill,Wenzhou shoes,Wenzhou\nLost Mill,Atlantis,Nowhere\n' >"$work/bad.csv"
"$thunder" import factories "$work/bad.csv" --data-dir "$work/demo" >"$work/imp" 2>&1
check "partial import exits 2" test $? -eq 2
check "reports the bad line" grep -q "bad.csv:3: belt: belt 'Atlantis' does not exist" "$work/imp"
printf 'name,colour\n' >"$work/worse.csv"
"$thunder" import factories "$work/worse.csv" --data-dir "$work/demo" >"$work/imp" 2>&1
check "bad header exits 1" test $? -eq 1

# Sell through the API, then rebuild the projections offline and find the same orders.
start_server serve --data-dir "$work/demo" --listen 127.0.0.1:0
drop=$(curl -s -H "Authorization: Bearer $token" -d '{"sku_id":"1","stock":5,"price":{"amount_fen":990},"starts_at":"2020-01-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"}' "${url}v1/drops" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
check "drop created" test -n "$drop"
# Tokens can be made while the server runs; a consumer buys for itself.
buyer=$("$thunder" admin token create --role consumer --scope cli --data-dir "$work/demo" 2>/dev/null)
check "token made while serving" test -n "$buyer"
code=$(curl -s -o "$work/order" -w '%{http_code}' -H "Authorization: Bearer $buyer" -d '{"idempotency_key":"cli-1"}' "${url}v1/drops/$drop/orders")
check "order reserved" test "$code" = 201
stop_server
"$thunder" admin rebuild-projections --data-dir "$work/demo" >"$work/rebuild" 2>&1
check "rebuild exits 0" test $? -eq 0
check "rebuild finds the order" grep -q '1 drops, 1 orders' "$work/rebuild"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
