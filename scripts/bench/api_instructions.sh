#!/usr/bin/env bash
# Load-independent companion to api.sh: user-space instructions per authenticated `GET /`,
# counted by valgrind's callgrind, for the API (logging, metrics, rate limiter on) and the bare
# axum hello-world. Wall-clock req/s on a shared 2-core VM swings by ±15% between runs; the
# instruction count does not. Kernel work (the same for both: one read, one writev) is not
# counted, so the ratio here overstates the wall-clock gap.
#
#   ./scripts/bench/api_instructions.sh           # DURATION=10s; dumps in .stackctl-test/bench-instructions
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
TOKEN=bench-token-$RANDOM$RANDOM
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench-instructions}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
TARGET=x86_64-unknown-linux-gnu
rm -rf "$STATE" && mkdir -p "$STATE"

# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
apt_install valgrind wrk
# STACKCTL_BENCH_BIN: a directory with prebuilt `api` and `examples/hello` (e.g. a build with
# symbols, to read the dumps with callgrind_annotate); otherwise the release build.
BIN=${STACKCTL_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build -q --release -p api --target "$TARGET" --bin api --example hello
  BIN="$CARGO_TARGET_DIR/$TARGET/release"
fi

AUTH=(-H "Authorization: Token $TOKEN")

measure() { # NAME PORT CMD...: prints "instructions requests" for DURATION of load
  local name=$1 port=$2 pid out requests
  shift 2
  trap cleanup EXIT # a subshell: the server is stopped even if this fails half-way
  PORT=$port valgrind -q --tool=callgrind --callgrind-out-file="$STATE/$name.%p" "$@" \
    >"$STATE/$name.log" 2>&1 & CLEANUPS+=("kill $! 2>/dev/null")
  pid=$!
  for _ in $(seq 300); do
    [[ $(curl -s "${AUTH[@]}" "http://127.0.0.1:$port/" || true) == "devops test server flying!!" ]] && break
    sleep 0.2
  done
  wrk -t1 -c4 -d2s "${AUTH[@]}" "http://127.0.0.1:$port/" >/dev/null # warm caches and pools
  callgrind_control -z "$pid" >/dev/null 2>&1
  out=$(wrk -t1 -c4 -d"$DURATION" "${AUTH[@]}" "http://127.0.0.1:$port/")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # The dump after zeroing holds only the measured window: sum its totals.
  local ir
  ir=$(awk '/^(summary|totals):/ { v = $2 } END { print v }' "$STATE/$name".*.*)
  echo "$ir $requests"
}

read -r hello_ir hello_n < <(measure hello "$(free_port)" "$BIN/examples/hello")
read -r api_ir api_n < <(API_TOKEN=$TOKEN RUST_LOG=info DATABASE_URL="sqlite://$STATE/bench.db" \
  RATE_LIMIT_PER_SECOND=100000000 measure api "$(free_port)" "$BIN/api")

echo
echo "user-space instructions per authenticated GET / (callgrind, wrk -t1 -c4 -d$DURATION)"
printf '%-26s %12s %10s %14s\n' server requests "Ir/req" "vs hello"
printf '%-26s %12s %10.0f %14s\n' "axum hello (ceiling)" "$hello_n" "$(awk -v i="$hello_ir" -v n="$hello_n" 'BEGIN { print i / n }')" 1.00x
printf '%-26s %12s %10.0f %14s\n' "api (auth+logs+metrics)" "$api_n" "$(awk -v i="$api_ir" -v n="$api_n" 'BEGIN { print i / n }')" \
  "$(awk -v a="$api_ir" -v an="$api_n" -v h="$hello_ir" -v hn="$hello_n" 'BEGIN { printf "%.2fx", (a / an) / (h / hn) }')"
