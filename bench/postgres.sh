#!/usr/bin/env bash
# Intake on PostgreSQL, one gateway and two gateways on one database, against the embedded
# store (sled) measured in the same run: alternating rounds, medians of ROUNDS, ratios to sled.
#
#   bash bench/postgres.sh                      # 3 rounds x 3 setups x 10 s, 64 connections
#   ROUNDS=5 DURATION=20 CONNS=64 bash bench/postgres.sh
#
# The load is `hotline-gateway bench` (distinct, valid ~1.3 KB reports, keep-alive, mutual TLS);
# with two gateways, two such clients run at once, each with half the connections, one per
# gateway (as a TCP load balancer would spread them), and their rates are added. PostgreSQL is
# Debian's 15, a throwaway cluster started here (fsync and synchronous_commit on, as in
# production), on this same machine: the gateways, the database and the clients share its
# cores. Installs postgresql if it is missing. Not part of CI. Prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
PG_PORT=${PG_PORT:-15432}
. bench/lib.sh
release_binary

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop "$WORK"
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

# The database: its own cluster.
pg_cluster "$PG_PORT" "max_connections = 200"
PG_URL="postgres://hgw@127.0.0.1:$PG_PORT/DB?sslmode=disable"

gateway_site "$OLDPWD"

start_gateway() { # n, backend, database
  local n=$1 backend=$2 db=$3
  HGW__GATEWAY__LISTEN=127.0.0.1:$((18440 + n)) HGW__GATEWAY__ADMIN_LISTEN=127.0.0.1:$((18460 + n)) \
  HGW__GATEWAY__DATA_DIR=data-$db-$n HGW__STORE__BACKEND=$backend HGW__STORE__URL=${PG_URL/DB/$db} \
    RUST_LOG=warn "$BIN" serve --config gateway.toml 2>>"$WORK/gateway-$n.log" &
  PIDS+=($!)
  for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$((18460 + n))/health" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "gateway $n did not start:" >&2; tail -5 "$WORK/gateway-$n.log" >&2; exit 1
}
stop_gateways() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
load() { # port, connections
  "$BIN" bench --config gateway.toml --url "https://localhost:$1" --concurrency "$2" \
    --duration "$DURATION" --members hotline-fr,police-fr --json || true
}

: > results.jsonl
for round in $(seq "$ROUNDS"); do
  for setup in sled pg1 pg2; do
    db=r${round}_$setup
    case $setup in
      sled) start_gateway 1 sled "$db"
            line=$(load 18441 "$CONNS") ;;
      pg1)  runuser -u postgres -- psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db OWNER hgw" >/dev/null
            start_gateway 1 postgres "$db"
            line=$(load 18441 "$CONNS") ;;
      pg2)  runuser -u postgres -- psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db OWNER hgw" >/dev/null
            start_gateway 1 postgres "$db"
            start_gateway 2 postgres "$db"
            load 18441 $((CONNS / 2)) > a.json & A=$!
            load 18442 $((CONNS / 2)) > b.json
            wait $A
            line=$(python3 -c 'import json; a, b = (json.load(open(f)) for f in ("a.json", "b.json")); print(json.dumps({"accepted_per_s": a["accepted_per_s"] + b["accepted_per_s"], "p50": max(a["latency_ms"]["p50"], b["latency_ms"]["p50"]), "p99": max(a["latency_ms"]["p99"], b["latency_ms"]["p99"]), "errors": a["requests"] - a["accepted"] + b["requests"] - b["accepted"]}))') ;;
    esac
    [ "$setup" = pg2 ] || line=$(echo "$line" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps({"accepted_per_s": d["accepted_per_s"], "p50": d["latency_ms"]["p50"], "p99": d["latency_ms"]["p99"], "errors": d["requests"] - d["accepted"]}))')
    stop_gateways
    echo "{\"setup\":\"$setup\",\"round\":$round,\"result\":$line}" >> results.jsonl
    echo "  round $round $setup: $(echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_s"]), "reports/s, p99", d["p99"], "ms")')" >&2
  done
done

python3 - <<'PY'
import json, statistics
rows = [json.loads(l) for l in open("results.jsonl")]
def med(setup, key):
    return statistics.median(r["result"][key] for r in rows if r["setup"] == setup)
sled = med("sled", "accepted_per_s")
names = {"sled": "sled, one gateway", "pg1": "PostgreSQL, one gateway", "pg2": "PostgreSQL, two gateways"}
print()
print(f"{'setup':<28} {'reports/s':>10} {'vs sled':>8} {'p50 ms':>8} {'p99 ms':>8} {'refused':>8}")
for setup in ["sled", "pg1", "pg2"]:
    rate = med(setup, "accepted_per_s")
    print(f"{names[setup]:<28} {rate:>10.0f} {rate / sled:>8.2f} {med(setup, 'p50'):>8.2f} "
          f"{med(setup, 'p99'):>8.2f} {med(setup, 'errors'):>8.0f}")
PY
