#!/usr/bin/env bash
# Benchmark of the users API (figures, no pass/fail): `GET /users/{id}` over 1000 stored users
# and `POST /users` of new users, next to a bare axum hello-world (the ceiling, apps/api's
# examples/hello.rs), all release builds with static linking. SQLite by default; with
# DATABASE_URL=postgres://… the users API uses that PostgreSQL. Load: wrk -t1 -c32 on loopback,
# each server alone, ROUNDS rounds alternating, medians reported.
#
#   ./scripts/bench/users.sh                      # DURATION=10s WARMUP=2s ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench-users}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
TARGET=x86_64-unknown-linux-gnu
rm -rf "$STATE" && mkdir -p "$STATE"
# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
apt_install wrk
RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build -q --release --target "$TARGET" -p users --bin users -p api --example hello
BIN="$CARGO_TARGET_DIR/$TARGET/release"

cat >"$STATE/get.lua" <<'LUA'
request = function()
  return wrk.format("GET", "/users/" .. math.random(1, 1000))
end
LUA
# Each wrk run posts IDs of its own from BASE up (set per run below; wrk's Lua never seeds
# math.random, so a random base would repeat): no conflicts.
cat >"$STATE/post.lua" <<'LUA'
local n = 0
local base = tonumber(os.getenv("BASE"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"id":' .. (base + n) .. ',"name":"bench user ' .. n .. '"}')
end
LUA

hello_port=$(free_port)
PORT=$hello_port "$BIN/examples/hello" >/dev/null 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
users_port=$(free_port)
PORT=$users_port RUST_LOG=info DATABASE_URL=${DATABASE_URL:-sqlite://$STATE/users.db} \
  "$BIN/users" >"$STATE/users.log" 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
wait_http "http://127.0.0.1:$hello_port/" 30
wait_http "http://127.0.0.1:$users_port/healthz" 30
for id in $(seq 1000); do printf '{"id":%d,"name":"user %d"}\n' "$id" "$id"; done |
  while read -r body; do
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" \
      "http://127.0.0.1:$users_port/users" || true
  done

BASE=1000000000
load() { # NAME URL [SCRIPT]: a warm-up and a measured run; appends "req/s p99 non-2xx" to NAME.runs
  local name=$1 url=$2 script=() out
  [[ -n ${3:-} ]] && script=(-s "$3")
  BASE=$((BASE + 1000000000)) wrk -t1 -c32 -d"$WARMUP" "${script[@]}" "$url" >/dev/null
  BASE=$((BASE + 2000000000))
  out=$(BASE=$BASE wrk -t1 -c32 -d"$DURATION" --latency "${script[@]}" "$url")
  echo "$out" >>"$STATE/$name.wrk"
  echo "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)" >>"$STATE/$name.runs"
}
median() { # FILE COLUMN (p99 values in ms)
  awk -v c="$2" '{ v = $c; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' "$1" \
    | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
for _ in $(seq "$ROUNDS"); do
  load hello "http://127.0.0.1:$hello_port/"
  load get "http://127.0.0.1:$users_port/users/1" "$STATE/get.lua"
  load post "http://127.0.0.1:$users_port/users" "$STATE/post.lua"
done

echo
echo "users API: wrk -t1 -c32 -d$DURATION on 127.0.0.1, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), storage ${DATABASE_URL:-sqlite}"
printf '%-34s %10s %10s %8s\n' "" req/s "p99 (ms)" non-2xx
for n in hello get post; do
  case $n in
    hello) label="axum hello (ceiling)" ;;
    get) label="users GET /users/{id}" ;;
    post) label="users POST /users" ;;
  esac
  printf '%-34s %10s %10s %8s\n' "$label" "$(median "$STATE/$n.runs" 1)" "$(median "$STATE/$n.runs" 2)" \
    "$(awk '{ s += $3 } END { print s + 0 }' "$STATE/$n.runs")"
done
echo "(wrk output: $STATE/*.wrk; server log: $STATE/users.log)"
