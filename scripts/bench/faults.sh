#!/usr/bin/env bash
# The full fault campaign (issue 5): `up` and `down` through the fault proxy at 20 % for 50
# seeds (or $1), printing the table of seeds, faults injected, outcomes and leftovers.
# The test suite runs a short campaign (6 seeds) every time.
#
#   ./scripts/bench/faults.sh          # seeds 1..=50
#   ./scripts/bench/faults.sh 200      # seeds 1..=200
#   STACKCTL_FAULT_SEEDS=12,31 ./scripts/bench/faults.sh   # replay chosen seeds
set -euo pipefail
cd "$(dirname "$0")/../.."
export STACKCTL_FAULT_RUNS="${1:-50}"
exec ./scripts/test.sh -p stackctl --test fault_campaign -- --nocapture
