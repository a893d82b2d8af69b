#!/usr/bin/env bash
# Benchmark: authenticated `GET /` on this machine, side by side in one run (one server loaded
# at a time): the API (release, static, logging + metrics + rate limiter on), the original
# Flask app on its dev server and under gunicorn (2 workers), and a bare axum hello-world as
# the ceiling. Load: wrk -t1 -c32, loopback only, bounded in time (about
# ROUNDS*2*(WARMUP+DURATION) + 2*(WARMUP+DURATION) plus the build).
#
#   ./scripts/bench/api.sh                        # DURATION=10s WARMUP=2s ROUNDS=5
#   DURATION=30s ROUNDS=5 ./scripts/bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-5}
TOKEN=bench-token-$RANDOM$RANDOM
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench}
VENV=${STACKCTL_BENCH_VENV:-$HOME/.cache/stackctl/bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
TARGET=x86_64-unknown-linux-gnu
rm -rf "$STATE" && mkdir -p "$STATE"

# --- tools: wrk (Debian), a venv with the pinned Flask stack, the release binaries --------
# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
apt_install wrk
if ! "$VENV/bin/python" -c 'import flask, flask_httpauth, gunicorn' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/bench/requirements.txt
fi
RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build -q --release -p api --target "$TARGET" --bin api --example hello
BIN="$CARGO_TARGET_DIR/$TARGET/release"

# --- helpers ---------------------------------------------------------------------------------
wait_up() { # PORT: wait until / answers (any status)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2; return 1
}
peak_rss_mb() { # PID...: summed VmHWM of the processes, in MB
  local kb=0 p
  for p in "$@"; do kb=$((kb + $(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }'
}
AUTH=(-H "Authorization: Token $TOKEN")
load() { # NAME PORT: one warm-up and one measured wrk run; appends "req/s p99 non-2xx" to STATE/NAME.runs
  local name=$1 url="http://127.0.0.1:$2/" out
  [[ $(curl -s "${AUTH[@]}" "$url") == "devops test server flying!!" ]] || { echo "$name: wrong answer" >&2; exit 1; }
  wrk -t1 -c32 -d"$WARMUP" "${AUTH[@]}" "$url" >/dev/null
  out=$(wrk -t1 -c32 -d"$DURATION" --latency "${AUTH[@]}" "$url")
  echo "$out" >>"$STATE/$name.wrk"
  echo "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)" >>"$STATE/$name.runs"
}
median() { # FILE COLUMN: the median of a column (p99 values keep their unit: us or ms)
  awk -v c="$2" '{ v = $c; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' "$1" \
    | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
ROWS=()
row() { # NAME LABEL PID...: summarize NAME's runs
  local name=$1 label=$2; shift 2
  ROWS+=("$label|$(median "$STATE/$name.runs" 1)|$(median "$STATE/$name.runs" 2)|$(peak_rss_mb "$@")|$(awk '{ s += $3 } END { print s + 0 }' "$STATE/$name.runs")|$(wc -l <"$STATE/$name.runs")")
}
children() { pgrep -P "$1" | tr '\n' ' '; }

# --- the ceiling and the API, alternated ROUNDS times (the machine may be shared) ----------
hello_port=$(free_port)
PORT=$hello_port "$BIN/examples/hello" >/dev/null 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
hello_pid=$!
api_port=$(free_port)
API_TOKEN=$TOKEN PORT=$api_port RUST_LOG=info DATABASE_URL="sqlite://$STATE/bench.db" \
  RATE_LIMIT_PER_SECOND=100000000 "$BIN/api" >"$STATE/api.log" 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
api_pid=$!
wait_up "$hello_port" && wait_up "$api_port"
# Each round measures both back to back (first one, then the other, swapping every round),
# so a round's api/hello ratio compares the two under the same machine conditions.
for i in $(seq "$ROUNDS"); do
  if ((i % 2)); then load hello "$hello_port"; load api "$api_port"
  else load api "$api_port"; load hello "$hello_port"; fi
done
ratios=$(paste -d' ' "$STATE/hello.runs" "$STATE/api.runs" | awk '{ printf "%.3f\n", $4 / $1 }')
ratio=$(sort -n <<<"$ratios" | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }')
row hello "axum hello (ceiling)" "$hello_pid"
row api "api (auth+logs+metrics)" "$api_pid"
kill "$hello_pid" "$api_pid"
sleep 0.5
api_lines=$(grep -c '"target":"api::access"' "$STATE/api.log" || true)

# --- the original app ------------------------------------------------------------------------
port=$(free_port)
(cd scripts/bench && API_TOKEN=$TOKEN exec "$VENV/bin/python" flask_app.py "$port") >"$STATE/flask.log" 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
flask_pid=$!
wait_up "$port" && load flask "$port" && row flask "flask dev server" "$flask_pid"
kill "$flask_pid"

port=$(free_port)
(cd scripts/bench && API_TOKEN=$TOKEN exec "$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$port" flask_app:app) \
  >"$STATE/gunicorn.log" 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
gunicorn_pid=$!
wait_up "$port" && sleep 1 && load gunicorn "$port"
# shellcheck disable=SC2046
row gunicorn "flask + gunicorn -w 2" "$gunicorn_pid" $(children "$gunicorn_pid")

# --- report ----------------------------------------------------------------------------------
ceiling=$(cut -d'|' -f2 <<<"${ROWS[0]}")
echo
echo "authenticated GET /: wrk -t1 -c32 -d$DURATION on 127.0.0.1, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(hello and api measured back to back in $ROUNDS rounds: medians; api's \"vs hello\" is the median"
echo " of the per-round ratios; peak RSS = VmHWM, summed over gunicorn's processes)"
printf '%-26s %10s %10s %10s %9s %8s\n' server req/s "p99 (ms)" "peak RSS" "vs hello" non-2xx
for r in "${ROWS[@]}"; do
  IFS='|' read -r label rps p99 rss errors runs <<<"$r"
  vs=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2fx", a / b }')
  [[ $label == api* ]] && vs="${ratio}x"
  printf '%-26s %10s %10s %7s MB %9s %8s\n' "$label" "$rps" "$p99" "$rss" "$vs" "$errors"
done
echo "api/hello per round: $(tr '\n' ' ' <<<"$ratios")(target >= 0.85)"
echo "api access-log lines written: $api_lines (logs: $STATE/api.log; wrk output: $STATE/*.wrk)"
