#!/usr/bin/env bash
# The gateway after a million accepted reports: resident memory, disk per report, and the time
# from process start to the first answered request on a store of that size.
#
#   bash bench/million.sh               # 1,000,000 one-item reports, 64 connections
#   REPORTS=200000 bash bench/million.sh
#
# Loads a fresh gateway (release build, store.cache_mb as configured) with `hotline-gateway
# bench` in 60 s slices until REPORTS were accepted, then: RSS at the end of the load and after
# 10 s idle, the data directory's size, a clean stop (SIGTERM), a restart timed from exec to
# the first 200 of GET /v1/keys over mutual TLS, and the RSS just after that answer.
# Not part of CI (it takes minutes). Prints one summary.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPORTS=${REPORTS:-1000000}
CONNS=${CONNS:-64}
GW_PORT=${GW_PORT:-18443}
ADMIN_PORT=${ADMIN_PORT:-18464}
release_binary
WORK=${WORK:-$(mktemp -d)}
cleanup() { [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
cd "$WORK"
export HGW__GATEWAY__LISTEN=127.0.0.1:$GW_PORT HGW__GATEWAY__ADMIN_LISTEN=127.0.0.1:$ADMIN_PORT
gateway_site "$OLDPWD"
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
first_answer() { # waits for the first 200 of GET /v1/keys
  until curl -fsS -o /dev/null --cacert certs/ca.crt --cert certs/members/hotline-fr.crt \
      --key certs/members/hotline-fr.key "https://localhost:$GW_PORT/v1/keys" 2>/dev/null; do
    sleep 0.01
  done
}

RUST_LOG=warn "$BIN" serve --config gateway.toml 2>>gateway.log &
GW_PID=$!
first_answer
accepted=0
started=$(date +%s)
while [ "$accepted" -lt "$REPORTS" ]; do
  line=$("$BIN" bench --config gateway.toml --url "https://localhost:$GW_PORT" --concurrency "$CONNS" \
    --duration 60 --members hotline-fr,police-fr --json)
  accepted=$((accepted + $(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')))
  echo "  $accepted accepted, RSS $(rss_mb "$GW_PID") MB, data $(du -sm data | cut -f1) MB" >&2
done
load_s=$(( $(date +%s) - started ))
rss_loaded=$(rss_mb "$GW_PID")
sleep 10
rss_idle=$(rss_mb "$GW_PID")
kill -TERM "$GW_PID"; wait "$GW_PID" || true; GW_PID=
data_kb=$(du -sk data | cut -f1)

t0=$(date +%s.%N)
RUST_LOG=warn "$BIN" serve --config gateway.toml 2>>gateway.log &
GW_PID=$!
first_answer
t1=$(date +%s.%N)
rss_started=$(rss_mb "$GW_PID")
kill -TERM "$GW_PID"; wait "$GW_PID" || true; GW_PID=
events=$("$BIN" audit verify --config gateway.toml | grep -o '[0-9]* events' | cut -d' ' -f1)

python3 - "$accepted" "$load_s" "$rss_loaded" "$rss_idle" "$data_kb" "$t0" "$t1" "$rss_started" "$events" <<'PY'
import sys
accepted, load_s, rss_loaded, rss_idle, data_kb, t0, t1, rss_started, events = sys.argv[1:]
accepted = int(accepted)
print(f"reports accepted       {accepted} in {load_s} s ({accepted / max(int(load_s), 1):.0f}/s); audit chain intact: {events} events")
print(f"RSS                    {rss_loaded} MB at the end of the load, {rss_idle} MB after 10 s idle, {rss_started} MB after a restart")
print(f"disk                   {int(data_kb) / 1024:.0f} MB, {int(data_kb) * 1024 / accepted:.0f} B per report")
print(f"restart                {float(t1) - float(t0):.2f} s from exec to the first answered request")
PY
