#!/usr/bin/env bash
# Wall time and AWS call counts of each phase — cold `up` (image already compiled), converged
# `up`, `rotate-token`, `down` — against the local stand-ins: moto behind the ECS emulation
# (deployments take its default 2 s to roll out, as ECS would take minutes), and the local
# registry for images. Prints a table.
#   ./scripts/bench/core.sh [runs]      (default 5 runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}"
# The time is the emulator's and the network's, not the binary's: the dev build is what tests use.
profile=${STACKCTL_BENCH_PROFILE:-dev}
bin=$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")/stackctl
root=$PWD
# Built once the stand-ins are up: starting them cleans our crates when another checkout used
# the target directory last.
exec ./scripts/with-standins.sh bash -c '
set -euo pipefail
cargo build -q --profile '"$profile"' --bin stackctl
export AWS_ENDPOINT_URL=$STACKCTL_TEST_MOTO AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export STACKCTL_REGISTRY_ENDPOINT=http://$STACKCTL_TEST_REGISTRY
dir=$(mktemp -d)
sed "s/^name: demo/name: bench/; s#build: apps/api#build: '"$root"'/apps/api#" '"$root"'/stack.yaml > "$dir/stack.yaml"
cd "$dir"
printf "%-14s %8s %8s %8s\n" phase seconds reads writes
for i in $(seq '"$runs"'); do
  for phase in "cold up:up" "converged up:up" "rotate-token:rotate-token" "down:down --yes"; do
    name=${phase%%:*}; args=${phase#*:}
    start=$(date +%s%N)
    out=$('"$bin"' $args 2>&1) || { echo "$out"; exit 1; }
    end=$(date +%s%N)
    calls=$(grep -o "[0-9]* reads, [0-9]* writes" <<<"$out" | tail -1)
    printf "%-14s %8.3f %8s %8s\n" "$name" "$(python3 -c "print(($end - $start) / 1e9)")" "$(cut -d" " -f1 <<<"$calls")" "$(cut -d" " -f3 <<<"$calls")"
  done
done'
