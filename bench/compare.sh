#!/usr/bin/env bash
# Intake throughput of the gateway against nginx terminating the same mutual TLS on the same
# machine (the ceiling: no work behind it), in alternating rounds, medians of ROUNDS.
#
#   bash bench/compare.sh                 # 3 rounds x 3 modes x 10 s, 64 connections
#   ROUNDS=5 DURATION=20 CONNS=64 bash bench/compare.sh
#
# Both servers are loaded by the same client, `hotline-gateway bench` (distinct, valid ~1.3 KB
# reports, so every request is new work for the gateway), in three modes: keep-alive, a new
# connection with a full handshake per request, and a new connection resuming the TLS 1.3
# session. oha (with one fixed body) gives a second opinion on nginx's keep-alive ceiling.
# Installs nginx and oha if they are missing. Not part of CI. Prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
GW_PORT=18443
NGINX_PORT=18444
ADMIN_PORT=18464

command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }
command -v oha >/dev/null || command -v "$HOME/.cargo/bin/oha" >/dev/null || cargo install oha --locked
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
# BIN=path/to/hotline-gateway measures another build (an older one, to compare) instead.
release_binary

WORK=$(mktemp -d)
cleanup() {
  [ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export HGW__GATEWAY__LISTEN=127.0.0.1:$GW_PORT HGW__GATEWAY__ADMIN_LISTEN=127.0.0.1:$ADMIN_PORT
gateway_site "$OLDPWD"

mkdir -p nginx-tmp
cat > nginx.conf <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate $WORK/certs/gateway.crt;
    ssl_certificate_key $WORK/certs/gateway.key;
    ssl_client_certificate $WORK/certs/ca.crt;
    ssl_verify_client on;
    ssl_session_tickets on;
    keepalive_requests 1000000;
    client_max_body_size 1m;
    location = /v1/reports {
      default_type application/json;
      return 202 '{"receipt":{"type":"report.accepted"},"signature":""}';
    }
  }
}
NGINX
nginx -p "$WORK" -c "$WORK/nginx.conf"

RUST_LOG=warn "$BIN" serve --config gateway.toml 2>"$WORK/gateway.log" &
GW_PID=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$ADMIN_PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

bench() { # url, extra flags...
  local url=$1; shift
  "$BIN" bench --config gateway.toml --url "$url" --concurrency "$CONNS" --duration "$DURATION" \
    --members hotline-fr,police-fr --json "$@" || true
}

: > results.jsonl
for mode in keepalive full resumed; do
  case $mode in
    keepalive) flags=() ;;
    full) flags=(--new-connections) ;;
    resumed) flags=(--new-connections --resume) ;;
  esac
  for round in $(seq "$ROUNDS"); do
    for target in gateway nginx; do
      port=$GW_PORT; [ "$target" = nginx ] && port=$NGINX_PORT
      line=$(bench "https://localhost:$port" "${flags[@]}")
      echo "{\"mode\":\"$mode\",\"target\":\"$target\",\"round\":$round,\"result\":$line}" >> results.jsonl
      echo "  $mode round $round $target: $(echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["accepted_per_s"]), "req/s, p99", d["latency_ms"]["p99"], "ms")')" >&2
    done
  done
done

# A second opinion on nginx's keep-alive ceiling from another client (one fixed body).
"$BIN" bench --help >/dev/null
python3 - > body.json <<'PY'
import json
print(json.dumps({"report_id": "OHA-1", "reported_at": "2026-11-20T09:14:00Z", "items": [{
  "url": "https://files.example.nl/a/b.jpg", "category": "csam", "content_kind": "image",
  "classification": "baseline", "hosting": {"ip": "192.0.2.10", "country": "NL", "asn": 64500},
  "hashes": {"sha256": "0" * 64}, "note": "bench " * 140}]}))
PY
OHA_NGINX=$("$OHA" -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json -m POST -D body.json \
  -H 'content-type: application/json' --cacert certs/ca.crt \
  --cert certs/members/hotline-fr.crt --key certs/members/hotline-fr.key \
  "https://localhost:$NGINX_PORT/v1/reports" 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"]))' || echo "n/a")

RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$GW_PID/status")
kill -TERM "$GW_PID"; wait "$GW_PID" || true; GW_PID=
DATA_KB=$(du -sk data | cut -f1)
REPORTS=$("$BIN" audit verify --config gateway.toml | grep -o '[0-9]* events' | cut -d' ' -f1)

python3 - "$OHA_NGINX" "$RSS_KB" "$DATA_KB" "$REPORTS" <<'PY'
import json, statistics, sys
oha, rss_kb, data_kb, events = sys.argv[1:]
rows = [json.loads(l) for l in open("results.jsonl")]
def med(mode, target, f):
    return statistics.median(f(r["result"]) for r in rows if r["mode"] == mode and r["target"] == target)
print()
print(f"{'mode':<34} {'gateway req/s':>14} {'nginx req/s':>12} {'ratio':>7} {'gw p50 ms':>10} {'gw p99 ms':>10} {'nginx p99':>10}")
names = {"keepalive": "keep-alive, 64 connections", "full": "new connection, full handshake", "resumed": "new connection, session resumed"}
for mode in ["keepalive", "full", "resumed"]:
    g = med(mode, "gateway", lambda r: r["accepted_per_s"])
    n = med(mode, "nginx", lambda r: r["accepted_per_s"])
    print(f"{names[mode]:<34} {g:>14.0f} {n:>12.0f} {g / n:>7.2f} "
          f"{med(mode, 'gateway', lambda r: r['latency_ms']['p50']):>10.2f} "
          f"{med(mode, 'gateway', lambda r: r['latency_ms']['p99']):>10.2f} "
          f"{med(mode, 'nginx', lambda r: r['latency_ms']['p99']):>10.2f}")
print(f"\nnginx keep-alive by oha (fixed body): {oha} req/s")
print(f"gateway after the run: RSS {int(rss_kb) / 1024:.0f} MB, data {int(data_kb) / 1024:.0f} MB "
      f"for {events} audit events (~ reports), {int(data_kb) * 1024 / max(int(events), 1):.0f} B per report")
PY
