#!/usr/bin/env bash
# make bench: the flash-sale engine against the stacks people build for this, in one run
# on this machine, printed as one table of ratios (absolute numbers wander on a shared
# machine; ratios measured side by side hold better).
#   1. engine core in process (Google Benchmark): reserve decisions per second
#   2. over loopback: our purchase endpoint with durable (fdatasync) acknowledgements,
#      driven by wrk, one hot drop, a fresh buyer and key per request; sold-out answers;
#      p99 latency at half of peak load
#   3. peers started here on 127.0.0.1: Redis 7 + Lua (appendfsync everysec and always,
#      redis-benchmark), PostgreSQL 15 hot-row update + insert (pgbench), nginx return 200
# Every server is started by this script and stopped when it ends.
# Knobs: BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_OUT (bench/results.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=${BENCH_OUT:-bench/results.md}
THUNDER=build/release/src/app/thunder
PORT_THUNDER=18180 PORT_NGINX=18181 PORT_REDIS=18182 PORT_PG=18183

work=$(mktemp -d /tmp/thunder-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -d "$work/pg" ] && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

# wrk's "Requests/sec" line.
wrk_rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_non2xx() { awk '/Non-2xx/ {print $5}' "$1"; }
wrk_p99() { awk '$1 == "99%" {print $2}' "$1"; }

# ---- 1. engine core --------------------------------------------------------------------
log "engine core (Google Benchmark)"
build/release/src/engine/partition_bench --benchmark_min_time=2 --benchmark_format=json >"$work/core.json" 2>/dev/null
core_accept=$(python3 -c "import json;d=json.load(open('$work/core.json'));print(int([b for b in d['benchmarks'] if b['name']=='BM_ReserveAccepted'][0]['items_per_second']))")
core_soldout=$(python3 -c "import json;d=json.load(open('$work/core.json'));print(int([b for b in d['benchmarks'] if b['name']=='BM_ReserveSoldOut'][0]['items_per_second']))")

# ---- 2. nginx floor --------------------------------------------------------------------
log "nginx return 200"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$PORT_NGINX; location / { return 200 'ok'; } }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3
wrk -t1 -c"$CONNS" -d"${SECONDS_EACH}s" "http://127.0.0.1:$PORT_NGINX/" >"$work/nginx.wrk"
nginx_rps=$(wrk_rps "$work/nginx.wrk")
kill "$(cat "$work/nginx.pid")"; rm -f "$work/nginx.pid"

# ---- 3. thunder --------------------------------------------------------------------------
log "thunder purchase endpoint"
"$THUNDER" demo --data-dir "$work/thunder" --listen "127.0.0.1:$PORT_THUNDER" --io-threads 1 --partitions 1 \
  >"$work/thunder.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q 'is serving at' "$work/thunder.out" && break; sleep 0.1; done
token=$(grep -o 'st_[0-9a-f]\{64\}' "$work/thunder.out" | head -1)
make_drop() {
  curl -s -H "Authorization: Bearer $token" \
    -d "{\"sku_id\":\"1\",\"stock\":$1,\"price\":{\"amount_fen\":990},\"starts_at\":\"2020-01-01T00:00:00Z\",\"ends_at\":\"2099-01-01T00:00:00Z\"}" \
    "http://127.0.0.1:$PORT_THUNDER/v1/drops" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])'
}
hot=$(make_drop 1000000000)
export THUNDER_TOKEN=$token THUNDER_ORDERS_PATH="/v1/drops/$hot/orders"
wrk -t1 -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s bench/buy.lua "http://127.0.0.1:$PORT_THUNDER" >"$work/buy.wrk"
buy_rps=$(wrk_rps "$work/buy.wrk")
buy_errors=$(wrk_non2xx "$work/buy.wrk"); buy_errors=${buy_errors:-0}
buy_p99_full=$(wrk_p99 "$work/buy.wrk")

# Half of peak: each connection waits 1 ms between requests; enough connections to offer
# about half the peak rate.
half_conns=$(python3 -c "print(max(1, round(float('$buy_rps') / 2 / 1000)))")
THUNDER_DELAY_MS=1 wrk -t1 -c"$half_conns" -d"${SECONDS_EACH}s" --latency -s bench/buy.lua \
  "http://127.0.0.1:$PORT_THUNDER" >"$work/half.wrk"
half_rps=$(wrk_rps "$work/half.wrk")
half_p99=$(wrk_p99 "$work/half.wrk")

sold=$(make_drop 0)
export THUNDER_ORDERS_PATH="/v1/drops/$sold/orders"
wrk -t1 -c"$CONNS" -d"${SECONDS_EACH}s" -s bench/buy.lua "http://127.0.0.1:$PORT_THUNDER" >"$work/soldout.wrk"
soldout_rps=$(wrk_rps "$work/soldout.wrk")
orders_made=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT_THUNDER/v1/drops/$hot" |
  python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["reserved"]+d["sold"])')
metrics=$(curl -s "http://127.0.0.1:$PORT_THUNDER/metrics" | grep -c . || true)
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# ---- 4. Redis + Lua ----------------------------------------------------------------------
redis_run() {  # $1 = appendfsync policy
  mkdir -p "$work/redis-$1"
  redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save '' --appendonly yes \
    --appendfsync "$1" --dir "$work/redis-$1" --daemonize no >"$work/redis-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do redis-cli -p "$PORT_REDIS" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$PORT_REDIS" set drop:stock 1000000000 >/dev/null
  local sha
  sha=$(redis-cli -p "$PORT_REDIS" script load "$(cat bench/buy.redis.lua)")
  # Requests in the time the others get, at the same connection count.
  redis-benchmark -p "$PORT_REDIS" -c "$CONNS" -n "${2}" -r 1000000000 --csv \
    evalsha "$sha" 2 drop:stock "order:__rand_int__" "__rand_int__" 2>/dev/null |
    tail -1 | awk -F'"' '{print $4}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
log "redis appendfsync everysec"
redis_everysec=$(redis_run everysec $((SECONDS_EACH * 80000)))
log "redis appendfsync always"
redis_always=$(redis_run always $((SECONDS_EACH * 20000)))

# ---- 5. PostgreSQL ------------------------------------------------------------------------
log "postgresql hot-row update + insert"
mkdir -p "$work/pg" "$work/pgsock"
chown postgres "$work/pg" "$work/pgsock"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$work/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg" -l "$work/pgsock/pg.log" -w \
  -o "-p $PORT_PG -k $work/pgsock -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c max_connections=200" start >/dev/null
psql -q -h "$work/pgsock" -p "$PORT_PG" -U postgres -c "CREATE TABLE stock (id int PRIMARY KEY, n bigint NOT NULL);
  INSERT INTO stock VALUES (1, 1000000000);
  CREATE TABLE orders (id bigserial PRIMARY KEY, buyer bigint NOT NULL, quantity int NOT NULL, created_at timestamptz DEFAULT now());" postgres
pgbench -n -h "$work/pgsock" -p "$PORT_PG" -U postgres -c "$CONNS" -j 1 -T "$SECONDS_EACH" -f bench/buy.pgbench.sql postgres >"$work/pgbench.out" 2>&1
pg_tps=$(awk '/^tps/ {print $3; exit}' "$work/pgbench.out")
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$work/pg" -m fast stop >/dev/null

# ---- the table -----------------------------------------------------------------------------
python3 - "$OUT" <<PY
import platform, subprocess, sys, datetime
def f(x): return float(x) if x not in ("", None) else 0.0
core_accept, core_soldout = f("$core_accept"), f("$core_soldout")
nginx, buy, soldout, half = f("$nginx_rps"), f("$buy_rps"), f("$soldout_rps"), f("$half_rps")
redis_es, redis_al, pg = f("$redis_everysec"), f("$redis_always"), f("$pg_tps")
p99 = "$half_p99"
def ms(s):
    s = s.strip()
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if s.endswith(unit): return float(s[:-len(unit)]) * scale
    return float("nan")
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
rows = [
  ("engine core, reserve decisions/s (in process)", core_accept, "5,000,000/s", core_accept / 5e6, 1.0),
  ("engine core, sold-out decisions/s (in process)", core_soldout, "", None, None),
  ("purchase over HTTP vs Redis+Lua everysec", buy, f"{redis_es:,.0f}/s", buy / redis_es if redis_es else 0, 1.0),
  ("purchase over HTTP vs Redis+Lua always", buy, f"{redis_al:,.0f}/s", buy / redis_al if redis_al else 0, None),
  ("purchase over HTTP vs PostgreSQL", buy, f"{pg:,.0f}/s", buy / pg if pg else 0, 20.0),
  ("purchase over HTTP vs nginx return 200", buy, f"{nginx:,.0f}/s", buy / nginx if nginx else 0, 0.5),
  ("sold-out answers vs nginx return 200", soldout, f"{nginx:,.0f}/s", soldout / nginx if nginx else 0, 0.8),
]
lines = []
lines.append(f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {platform.node()}: {cpu}, "
             f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
             f"$SECONDS_EACH s per run, $CONNS connections, wrk -t1 on the same machine.")
lines.append("")
lines.append("| measurement | ours | peer | ratio | goal | met |")
lines.append("| --- | ---: | ---: | ---: | ---: | :---: |")
for name, ours, peer, ratio, goal in rows:
    r = "" if ratio is None else f"{ratio:.2f}x"
    g = "" if goal is None else f">= {goal:g}x"
    met = "" if goal is None else ("yes" if ratio >= goal else "no")
    lines.append(f"| {name} | {ours:,.0f}/s | {peer} | {r} | {g} | {met} |")
p99ms = ms(p99)
lines.append(f"| p99 latency at half of peak ({half:,.0f} req/s offered by $half_conns connections) | {p99} | | | < 5 ms | {'yes' if p99ms < 5 else 'no'} |")
lines.append("")
lines.append(f"Purchases: $buy_errors non-2xx answers in the peak run; the hot drop holds $orders_made orders "
             f"after all runs. p99 at full load: $buy_p99_full.")
text = "\n".join(lines)
print(text)
open(sys.argv[1], "w").write(text + "\n")
PY
