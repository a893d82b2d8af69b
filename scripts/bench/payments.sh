#!/usr/bin/env bash
# Benchmark: the payments API on SQLite (what it uses locally) next to PostgreSQL (what it uses
# deployed with a `database:`), same binary, same load, one server loaded at a time, alternated
# ROUNDS times. Loads: `create` (POST /v1/payments) and `list` (GET /v1/payments?limit=20).
# PostgreSQL is Debian's, local, over TLS with a password as on RDS, started by
# scripts/services/postgres.sh (fsync off: the disk is not what is compared here, and SQLite
# runs with synchronous=NORMAL). wrk -t1 -c16, loopback.
#
#   ./scripts/bench/payments.sh                   # DURATION=10s WARMUP=2s ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
TOKEN=bench-token-$RANDOM$RANDOM
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench-payments}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
export STACKCTL_TEST_STATE=$STATE
TARGET=x86_64-unknown-linux-gnu
rm -rf "$STATE" && mkdir -p "$STATE"

# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
apt_install wrk
# shellcheck source=scripts/services/postgres.sh
source scripts/services/postgres.sh
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release -p api --target "$TARGET" --bin api
BIN="$CARGO_TARGET_DIR/$TARGET/release/api"

PG_HOSTPORT=${STACKCTL_TEST_POSTGRES_URL#*@}
PG_HOSTPORT=${PG_HOSTPORT%%/*}
PASSWORD=bench-$RANDOM$RANDOM$RANDOM
PGOPTIONS="-c client_min_messages=warning" psql "$STACKCTL_TEST_POSTGRES_URL" -qAt -v ON_ERROR_STOP=1 <<SQL
DROP DATABASE IF EXISTS bench WITH (FORCE);
DROP ROLE IF EXISTS bench;
CREATE ROLE bench LOGIN PASSWORD '$PASSWORD';
CREATE DATABASE bench OWNER bench;
SQL

cat >"$STATE/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"data":{"order":"A-1","note":"benchmark"},"payment":"12.34"}'
wrk.headers["Content-Type"] = "application/json"
LUA

start() { # NAME ENV...: start the API with ENV, print its port
  local name=$1 port
  shift
  port=$(free_port)
  env API_TOKEN="$TOKEN" PORT="$port" RUST_LOG=warn RATE_LIMIT_PER_SECOND=0 "$@" "$BIN" \
    >"$STATE/$name.log" 2>&1 &
  CLEANUPS+=("kill $! 2>/dev/null")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/status" && { echo "$port"; return; }; sleep 0.1; done
  echo "$name did not start: $(cat "$STATE/$name.log")" >&2
  exit 1
}
AUTH=(-H "Authorization: Token $TOKEN")
load() { # NAME PORT WORKLOAD: a warm-up and a measured run, appended to STATE/NAME-WORKLOAD.runs
  local url="http://127.0.0.1:$2/v1/payments" args=() out
  if [[ $3 == create ]]; then args=(-s "$STATE/create.lua"); else url="$url?limit=20"; fi
  wrk -t1 -c16 -d"$WARMUP" "${args[@]}" "${AUTH[@]}" "$url" >/dev/null
  out=$(wrk -t1 -c16 -d"$DURATION" --latency "${args[@]}" "${AUTH[@]}" "$url")
  echo "$out" >>"$STATE/$1-$3.wrk"
  echo "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)" >>"$STATE/$1-$3.runs"
}
median() { # FILE COLUMN (p99 values keep their unit: us, ms or s)
  awk -v c="$2" '{ v = $c; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' "$1" \
    | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

sqlite_port=$(start sqlite DATABASE_URL="sqlite://$STATE/bench.db")
pg_port=$(start postgres DATABASE_HOST=127.0.0.1 DATABASE_PORT="${PG_HOSTPORT##*:}" \
  DATABASE_NAME=bench DATABASE_USER=bench DATABASE_PASSWORD="$PASSWORD" DATABASE_SSLMODE=require)
for i in $(seq "$ROUNDS"); do
  for w in create list; do
    if ((i % 2)); then load sqlite "$sqlite_port" "$w"; load postgres "$pg_port" "$w"
    else load postgres "$pg_port" "$w"; load sqlite "$sqlite_port" "$w"; fi
  done
done

echo
echo "payments API, wrk -t1 -c16 -d$DURATION on 127.0.0.1, $(nproc) cores, $ROUNDS rounds (medians), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL $(psql "$STACKCTL_TEST_POSTGRES_URL" -qAt -c 'SHOW server_version') over TLS (fsync off); SQLite WAL, synchronous=NORMAL"
printf '%-10s %-8s %10s %10s %8s\n' store load req/s "p99 (ms)" non-2xx
for w in create list; do
  for s in sqlite postgres; do
    f="$STATE/$s-$w.runs"
    printf '%-10s %-8s %10s %10s %8s\n' "$s" "$w" "$(median "$f" 1)" "$(median "$f" 2)" \
      "$(awk '{ s += $3 } END { print s + 0 }' "$f")"
  done
done
