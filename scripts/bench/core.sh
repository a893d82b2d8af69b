#!/usr/bin/env bash
# Wall time and AWS call counts of cold `up`, converged `up`, `down` against a local moto.
#   ./scripts/bench/core.sh [runs]      (default 5 runs; prints a table)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}"
cargo build -q --release --bin stackctl
bin=$CARGO_TARGET_DIR/release/stackctl
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto' EXIT
until curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/"; do sleep 0.2; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
dir=$(mktemp -d)
mkdir -p "$dir/apps/api" && echo '[package]' > "$dir/apps/api/Cargo.toml"
sed 's/^name: demo/name: bench/' stack.yaml > "$dir/stack.yaml"
cd "$dir"
printf '%-14s %8s %8s %8s\n' phase seconds reads writes
for i in $(seq "$runs"); do
  for phase in "cold up:up" "converged up:up" "down:down --yes"; do
    name=${phase%%:*}; args=${phase#*:}
    start=$(date +%s.%N)
    out=$("$bin" $args 2>&1)
    end=$(date +%s.%N)
    calls=$(grep -o '[0-9]* reads, [0-9]* writes' <<<"$out" | tail -1)
    printf '%-14s %8.3f %8s %8s\n' "$name" "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1 <<<"$calls")" "$(cut -d' ' -f3 <<<"$calls")"
  done
done
