#!/usr/bin/env bash
# Benchmark: is `stackctl check load` ever the bottleneck at the rates it reports? Against the
# bare axum hello-world (apps/api/examples/hello.rs, release), on loopback:
#   1. the ceiling: wrk -t1 -c32 (closed loop, as fast as the server answers);
#   2. `stackctl check load` at increasing constant rates, each for DURATION: the rate it
#      achieved, latency p50/p99 (from each request's due time) and how late it sent
#      requests (p99): while that stays at a few ms, the generator kept its schedule.
# One server, one generator, both on this machine: they share its cores, so the figures are
# a floor for what a separate load machine reaches.
#
#   ./scripts/bench/check.sh                          # RATES="500 1000 2000 4000 8000" DURATION=10s
#   RATES="1000 5000" DURATION=20s ./scripts/bench/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES=${RATES:-500 1000 2000 4000 8000}
DURATION=${DURATION:-10s}
PROFILE=${PROFILE:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
TARGET=x86_64-unknown-linux-gnu
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench-check}
rm -rf "$STATE" && mkdir -p "$STATE"

# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
apt_install wrk
RUSTFLAGS='-C target-feature=+crt-static' \
  cargo build -q --release -p api --target "$TARGET" --example hello
if [[ $PROFILE == release ]]; then
  cargo build -q --release -p stackctl --bin stackctl
  STACKCTL="$CARGO_TARGET_DIR/release/stackctl"
else
  cargo build -q -p stackctl --bin stackctl
  STACKCTL="$CARGO_TARGET_DIR/debug/stackctl"
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$PORT "$CARGO_TARGET_DIR/$TARGET/release/examples/hello" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/"

# A stack whose one public service has no token: `--path /` reaches the hello-world.
cat >"$STATE/stack.yaml" <<'EOF'
name: bench
services:
  hello:
    image: example.com/hello:1
    port: 8081
    public: true
EOF

wrk -t1 -c32 -d2s "$URL" >/dev/null
CEILING=$(wrk -t1 -c32 -d"$DURATION" "$URL" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')

echo
echo "stackctl check load ($PROFILE build) against the bare axum hello-world; ceiling (wrk -c32): $CEILING req/s"
echo "| rate asked | achieved | failed | p50 | p99 | sent late by (p99) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for rate in $RATES; do
  "$STACKCTL" --file "$STATE/stack.yaml" check load --url "$URL" --path / --rate "$rate" \
    --duration "$DURATION" -o json 2>/dev/null >"$STATE/$rate.json" || true
  python3 - "$STATE/$rate.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency"]
f = lambda x: "-" if x is None else f"{x:.2f} ms"
print(f"| {r['rate']} | {r['achieved_per_second']:.0f} | {r['failed']} | {f(l['p50_ms'])} | {f(l['p99_ms'])} | {r['late_p99_ms']:.2f} ms |")
PY
done
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(rustc --version | cut -d' ' -f1-2)"
