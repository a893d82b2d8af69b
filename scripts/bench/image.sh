#!/usr/bin/env bash
# Benchmark of the daemonless image builder on apps/api (figures, no pass/fail):
#   - cold: clean cargo target dir, empty registry -> build + push
#   - warm: same target dir, no source change -> build + push (5 runs)
#   - compressed image size (target <= 8 MB) and bytes uploaded on re-push (expect 0)
# Starts its own loopback registry (scripts/services/registry.sh).
#
#   ./scripts/bench/image.sh [package_dir]     # default apps/api
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PACKAGE=${1:-apps/api}
export STACKCTL_TEST_STATE="${STACKCTL_TEST_STATE:-$ROOT/.stackctl-test}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}"
mkdir -p "$STACKCTL_TEST_STATE"

# shellcheck source=scripts/lib/helpers.sh
source scripts/lib/helpers.sh
# shellcheck source=scripts/services/registry.sh
source scripts/services/registry.sh

cargo build -q --example image_bench
BENCH="$CARGO_TARGET_DIR/debug/examples/image_bench"
COLD_TARGET=$(mktemp -d "${TMPDIR:-/tmp}/stackctl-bench-target.XXXXXX")
OTHER_TARGET=$(mktemp -d "${TMPDIR:-/tmp}/stackctl-bench-other.XXXXXX")
CLEANUPS+=("rm -rf '$COLD_TARGET' '$OTHER_TARGET'")

echo "== $PACKAGE on $(nproc) cores, registry $STACKCTL_TEST_REGISTRY"
echo "-- cold (clean target dir, empty repository)"
"$BENCH" "$PACKAGE" "$COLD_TARGET" "$STACKCTL_TEST_REGISTRY" bench/api 1 | tee "$STACKCTL_TEST_STATE/bench-cold.jsonl"
echo "-- second clean build elsewhere (reproducibility; blobs already pushed)"
"$BENCH" "$PACKAGE" "$OTHER_TARGET" "$STACKCTL_TEST_REGISTRY" bench/api 1 | tee "$STACKCTL_TEST_STATE/bench-other.jsonl"
echo "-- warm (no change, image already in the registry), 5 runs"
"$BENCH" "$PACKAGE" "$COLD_TARGET" "$STACKCTL_TEST_REGISTRY" bench/api 5 | tee "$STACKCTL_TEST_STATE/bench-warm.jsonl"

python3 - "$STACKCTL_TEST_STATE"/bench-{cold,warm,other}.jsonl <<'PY'
import json, statistics, sys
cold = [json.loads(l) for l in open(sys.argv[1])][0]
warm = [json.loads(l) for l in open(sys.argv[2])]
other = [json.loads(l) for l in open(sys.argv[3])][0]
mb = cold["compressed_bytes"] / 1e6
print(f"image compressed size : {cold['compressed_bytes']} bytes ({mb:.2f} MB, target <= 8 MB: {'ok' if mb <= 8 else 'OVER'})")
print(f"binary size           : {cold['binary_bytes']} bytes")
print(f"cold build+push       : {cold['total_s']:.1f} s (build {cold['build_s']:.1f} s, push {cold['push_s']:.2f} s)")
totals = [w["total_s"] for w in warm]
print(f"warm build+push       : median {statistics.median(totals):.2f} s, min {min(totals):.2f} s, max {max(totals):.2f} s over {len(totals)} runs")
print(f"re-push bytes uploaded: {[w['bytes_uploaded'] for w in warm]}")
print(f"second clean build    : {other['total_s']:.1f} s, bytes uploaded {other['bytes_uploaded']}")
print(f"same digest everywhere: {len({w['digest'] for w in warm} | {cold['digest'], other['digest']}) == 1} ({cold['digest']})")
PY
