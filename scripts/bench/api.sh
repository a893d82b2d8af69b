#!/usr/bin/env bash
# Benchmark: authenticated `GET /` on this machine, side by side in one run (one server at a
# time, same load): the API (release, static, logging + metrics + rate limiter on), the
# original Flask app on its dev server and under gunicorn (2 workers), and a bare axum
# hello-world as the ceiling. Load: wrk -t1 -c32, loopback only, bounded in time.
#
#   ./scripts/bench/api.sh            # DURATION=10s by default
#   DURATION=30s ./scripts/bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
TOKEN=bench-token-$RANDOM$RANDOM
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench}
VENV=${STACKCTL_BENCH_VENV:-$HOME/.cache/stackctl/bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
TARGET=x86_64-unknown-linux-gnu
rm -rf "$STATE" && mkdir -p "$STATE"

# --- tools: wrk (Debian), a venv with the pinned Flask stack, the release binaries --------
if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
if ! "$VENV/bin/python" -c 'import flask, flask_httpauth, gunicorn' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/bench/requirements.txt
fi
RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build -q --release -p api --target "$TARGET" --bin api --example hello
BIN="$CARGO_TARGET_DIR/$TARGET/release"

# --- helpers ---------------------------------------------------------------------------------
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # PORT: wait until / answers (any status)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2; return 1
}
peak_rss_mb() { # PID...: summed VmHWM of the processes, in MB
  local kb=0 p
  for p in "$@"; do kb=$((kb + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }'
}
ROWS=()
run() { # NAME PORT PID...: load the server, record req/s, p99 and peak RSS
  local name=$1 port=$2; shift 2
  wait_up "$port"
  local auth=(-H "Authorization: Token $TOKEN") url="http://127.0.0.1:$port/"
  [[ $(curl -s "${auth[@]}" "$url") == "devops test server flying!!" ]] || { echo "$name: wrong answer" >&2; exit 1; }
  wrk -t1 -c32 -d"$WARMUP" "${auth[@]}" "$url" >/dev/null
  local out; out=$(wrk -t1 -c32 -d"$DURATION" --latency "${auth[@]}" "$url")
  echo "$out" >"$STATE/wrk-${name// /_}.txt"
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  ROWS+=("$name|$rps|$p99|$(peak_rss_mb "$@")|${errors:-0}")
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
}
children() { pgrep -P "$1" | tr '\n' ' '; }

# --- the contenders --------------------------------------------------------------------------
port=$(free_port)
PORT=$port "$BIN/examples/hello" >/dev/null 2>&1 & PIDS+=($!)
run "axum hello (ceiling)" "$port" "$!"

port=$(free_port)
API_TOKEN=$TOKEN PORT=$port RUST_LOG=info DATABASE_URL="sqlite://$STATE/bench.db" \
  RATE_LIMIT_PER_SECOND=100000000 "$BIN/api" >"$STATE/api.log" 2>&1 & PIDS+=($!)
api_pid=$!
run "api (auth+logs+metrics)" "$port" "$api_pid"
api_lines=$(grep -c '"target":"api::access"' "$STATE/api.log" || true)

port=$(free_port)
(cd scripts/bench && API_TOKEN=$TOKEN exec "$VENV/bin/python" flask_app.py "$port") >"$STATE/flask.log" 2>&1 & PIDS+=($!)
run "flask dev server" "$port" "$!"

port=$(free_port)
(cd scripts/bench && API_TOKEN=$TOKEN exec "$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$port" flask_app:app) \
  >"$STATE/gunicorn.log" 2>&1 & PIDS+=($!)
gunicorn_pid=$!
wait_up "$port"
# shellcheck disable=SC2046
run "flask + gunicorn -w 2" "$port" "$gunicorn_pid" $(children "$gunicorn_pid")

# --- report ----------------------------------------------------------------------------------
ceiling=$(cut -d'|' -f2 <<<"${ROWS[0]}")
echo
echo "authenticated GET /, wrk -t1 -c32 -d$DURATION, $(nproc) cores, loopback"
printf '%-26s %10s %9s %10s %9s %8s\n' server req/s p99 "peak RSS" "vs hello" non-2xx
for row in "${ROWS[@]}"; do
  IFS='|' read -r name rps p99 rss errors <<<"$row"
  printf '%-26s %10s %9s %8s MB %8s %8s\n' "$name" "$rps" "$p99" "$rss" \
    "$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2fx", a / b }')" "$errors"
done
echo "api access-log lines written: $api_lines (logs: $STATE/api.log; wrk output: $STATE/wrk-*.txt)"
