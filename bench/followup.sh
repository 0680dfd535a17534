#!/usr/bin/env bash
# The notice follow-up at scale: how long its pass takes over N open items (default 100,000)
# that are all due at once, and what it does to intake meanwhile, against intake measured on
# the same gateway and store in the same run with no pass running.
#
#   bash bench/followup.sh                         # N=100000, 20 s of intake, 32 connections
#   N=20000 DURATION=10 CONNS=32 bash bench/followup.sh
#   BACKEND=postgres bash bench/followup.sh        # on a throwaway PostgreSQL (installed if missing)
#
# 1. A gateway whose pass is asleep (notices.check_interval_secs huge) is filled with N
#    one-item reports from hotline-fr, each taken to notice_sent by hotline-nl
#    (`hotline-gateway bench --notice --count N`); each notice is due again 60 s later
#    (notices.renotify_after_secs=60).
# 2. The gateway restarts with notices.check_interval_secs=1, 60 s after the last notice: its
#    first pass finds all N items due and sends each notice again (per item: a history event,
#    a status entry for hotline-fr, a notice entry for hoster-nl, an audit event), 64 items a
#    transaction, each followed by a pause twice its length. Intake (`bench`, new reports from
#    two hotlines) is measured for DURATION s from the start of the pass; the pass is over when
#    hgw_notices_renotified_total reaches N.
# 3. Reference: intake the same way on the same gateway once the pass is over (nothing due).
#
# Prints the pass's time and rate, and intake during it as a ratio to the reference. Not part
# of CI (it takes several minutes). The machine is shared: compare ratios, not absolute rates.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
BACKEND=${BACKEND:-sled}
PG_PORT=${PG_PORT:-15433}
. bench/lib.sh
release_binary
WORK=$(mktemp -d)
chmod 755 "$WORK"
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  pg_stop "$WORK"
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
# Two notices at most (the member's and one again): each item is noticed again once by the
# pass, which is over when the count reaches N, however long it takes.
export HGW__NOTICES__RENOTIFY_AFTER_SECS=60 HGW__NOTICES__MAX_NOTICES=2
export HGW__NOTICES__ESCALATE_AFTER_SECS=31536000
if [ "$BACKEND" = postgres ]; then
  pg_cluster "$PG_PORT"
  runuser -u postgres -- createdb -h "$WORK/pg" -p "$PG_PORT" -U postgres -O hgw hgw
  export HGW__STORE__BACKEND=postgres
  export HGW__STORE__URL="postgres://hgw@127.0.0.1:$PG_PORT/hgw?sslmode=disable"
fi
gateway_site "$OLDPWD"

start() { # check interval (s)
  HGW__NOTICES__CHECK_INTERVAL_SECS=$1 "$BIN" serve --config gateway.toml >>gateway.log 2>&1 &
  PID=$!
  for _ in $(seq 600); do
    curl -sf http://127.0.0.1:9464/health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the gateway did not start; its log:" >&2
  tail -20 gateway.log >&2
  exit 1
}
stop() {
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
}
renotified() {
  curl -s http://127.0.0.1:9464/metrics | awk '$1 == "hgw_notices_renotified_total" { print int($2) }'
}
intake() { # seconds -> accepted reports a second
  "$BIN" bench --config gateway.toml --members hotline-fr,hotline-de --concurrency "$CONNS" \
    --duration "$1" --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["accepted_per_s"], 1))'
}

echo "filling a $BACKEND gateway with $N items in notice_sent..." >&2
start 100000000
"$BIN" bench --config gateway.toml --members hotline-fr --concurrency "$CONNS" --duration 100000 \
  --count "$N" --notice --json >seed.json || {
  echo "filling failed (answers other than 202 and 200):" >&2
  cat seed.json >&2
  tail -5 gateway.log >&2
  exit 1
}
last_notice=$(date +%s.%N)
seed_rate=$(python3 -c 'import json; print(round(json.load(open("seed.json"))["accepted_per_s"], 1))')
echo "filled at $seed_rate reports (each with 2 status changes) a second" >&2

stop

# Every notice is due 60 s after it was sent.
wait_s=$(python3 -c "import time; print(max(0.0, $last_notice + 61 - time.time()))")
sleep "$wait_s"
echo "restarting with the pass on; intake for $DURATION s while it runs..." >&2
start 1
pass_started=$(date +%s.%N)
intake "$DURATION" >during.txt &
BENCH=$!
pass_s=
while :; do
  done_n=$(renotified)
  now=$(date +%s.%N)
  if [ "${done_n:-0}" -ge "$N" ]; then
    pass_s=$(python3 -c "print(round($now - $pass_started, 1))")
    break
  fi
  if python3 -c "import sys; sys.exit(0 if $now - $pass_started < 3600 else 1)"; then sleep 0.2; else break; fi
done
wait "$BENCH"
during=$(cat during.txt)
echo "reference: intake for $DURATION s once the pass is over..." >&2
reference=$(intake "$DURATION")
stop

python3 - "$BACKEND" "$N" "$pass_s" "$reference" "$during" "$DURATION" <<'PY'
import sys
backend, n, pass_s, reference, during, duration = sys.argv[1:]
n, reference, during, duration = int(n), float(reference), float(during), float(duration)
print(f"notice follow-up, {backend}: {n} items due at once")
if pass_s:
    pass_s = float(pass_s)
    print(f"  the pass: {pass_s:.1f} s ({n / pass_s:.0f} items/s)")
    overlap = min(pass_s, duration) / duration
    print(f"  intake while it ran: {during:.1f} reports/s, {during / reference:.2f} x the "
          f"reference {reference:.1f}/s (the pass overlapped {overlap:.0%} of the {duration:.0f} s)")
else:
    print("  the pass did not finish within an hour")
PY
