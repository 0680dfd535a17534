# What the benchmarks share; sourced by each from the project's root (`. bench/lib.sh`).

PG_BIN=/usr/lib/postgresql/15/bin

# The gateway to measure: $BIN if set (another build, to compare), else this tree's release build.
release_binary() {
  if [ -z "${BIN:-}" ]; then
    cargo build --release --locked -q
    BIN=$PWD/target/release/hotline-gateway
  fi
}

# A gateway site in the current directory: the default configuration as gateway.toml, its
# development certificates, and no rate or per-address limit in the way of a load that comes
# from one address (the environment variables stay for every gateway started after). No PID
# file: the benchmarks stop their gateways by the PIDs they keep, and several gateways (each
# with its own data directory) run side by side.
gateway_site() { # the project's root
  cp "$1/config/default.toml" gateway.toml
  export HGW__LIMITS__REQUESTS_PER_SECOND=100000000 HGW__LIMITS__BURST=100000000
  export HGW__GATEWAY__MAX_CONNECTIONS_PER_IP=512
  export HGW__GATEWAY__PID_FILE=
  "$BIN" dev-pki --config gateway.toml >/dev/null 2>&1
}

# A throwaway PostgreSQL 15 cluster in ./pg (installed if missing), owned by the postgres user
# (initdb refuses root), on 127.0.0.1:PORT, fsync and synchronous_commit on as in production,
# with a role hgw; the other arguments are more postgresql.conf lines. Stop it with pg_stop.
pg_cluster() { # port, [conf line...]
  local port=$1
  shift
  [ -x "$PG_BIN/initdb" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
  mkdir pg && chown postgres pg && chmod 700 pg
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PWD/pg" -A trust -U postgres >/dev/null
  {
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$PWD/pg'"
    echo "fsync = on"
    echo "synchronous_commit = on"
    for line in "$@"; do echo "$line"; done
  } >> pg/postgresql.conf
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PWD/pg" -l "$PWD/pg/log" -w start >/dev/null
  runuser -u postgres -- psql -h "$PWD/pg" -p "$port" -U postgres -qc "CREATE ROLE hgw LOGIN" >/dev/null
}

# Stops the cluster pg_cluster started in directory $1 (if it runs).
pg_stop() { # the directory pg is in
  [ -f "$1/pg/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$1/pg" -m immediate stop >/dev/null 2>&1 || true
}
