#!/usr/bin/env bash
# Benchmark of `stackctl dev` (figures, no pass/fail), each measured ROUNDS times, medians:
# - warm start: `stackctl dev` to "ready" (every service healthy behind the front), builds
#   already in cargo's cache, for the token API (stack.yaml) and the two-tier example (with its
#   PostgreSQL when one is installed);
# - restart under --watch: a file of apps/api touched to the new process healthy (cargo
#   recompiles the api crate, links, and the service restarts).
# COLD=1 first builds everything into an empty CARGO_TARGET_DIR: the cold start.
#
#   ./scripts/bench/dev.sh                  # ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
STATE=${STACKCTL_BENCH_STATE:-$PWD/.stackctl-test/bench-dev}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}
cargo build -q -p stackctl
STACKCTL="$CARGO_TARGET_DIR/debug/stackctl"
rm -rf "$STATE" && mkdir -p "$STATE"

# Runs dev on $1 (a stack file) until "ready", prints the seconds it said; $2 more args.
ready_time() {
  local file=$1 log=$STATE/dev.log
  shift
  NO_COLOR=1 "$STACKCTL" dev --file "$file" --port 27401 "$@" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 6000); do
    if grep -q "ready in" "$log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; return 1; fi
    sleep 0.1
  done
  grep -o "ready in [0-9.]* s" "$log" | grep -o "[0-9.]*"
  if (($# > 0)) && [[ $1 == --watch ]]; then
    local before=$(grep -c "api: healthy after" "$log")
    local start=$(date +%s.%N)
    touch "$ROOT/apps/api/src/main.rs"
    for _ in $(seq 1 6000); do
      (($(grep -c "api: healthy after" "$log") > before)) && break
      sleep 0.02
    done
    (($(grep -c "api: healthy after" "$log") > before)) || { cat "$log" >&2; kill "$pid"; return 1; }
    echo "restart $(awk "BEGIN {printf \"%.2f\", $(date +%s.%N) - $start}")"
  fi
  kill -INT "$pid" && wait "$pid"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

sed "s#build: apps/api#build: $ROOT/apps/api#; s#port: 8080#port: 27411#" stack.yaml >"$STATE/api.yaml"
sed "s#\.\./\.\./apps#$ROOT/apps#; s#port: 8000#port: 27412#; s#port: 8080#port: 27413#" \
  examples/two-tier/stack.yaml >"$STATE/two-tier.yaml"

if [[ ${COLD:-} == 1 ]]; then
  export CARGO_TARGET_DIR=$STATE/target
  echo "cold start (empty target directory), token API: $(ready_time "$STATE/api.yaml") s"
fi
api=() twotier=() restart=()
for _ in $(seq "$ROUNDS"); do
  api+=("$(ready_time "$STATE/api.yaml")")
  twotier+=("$(ready_time "$STATE/two-tier.yaml")")
  out=$(ready_time "$STATE/api.yaml" --watch)
  restart+=("$(echo "$out" | awk '/restart/ {print $2}')")
done
echo "warm start, token API:        $(printf '%s\n' "${api[@]}" | median) s"
echo "warm start, two-tier example: $(printf '%s\n' "${twotier[@]}" | median) s"
echo "restart under --watch (api):  $(printf '%s\n' "${restart[@]}" | median) s"
