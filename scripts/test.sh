#!/usr/bin/env bash
# The project's one test command (see README.md). On a fresh machine it installs what is
# missing, starts the local stand-ins (moto, an OCI registry, PostgreSQL, podman config) on
# loopback, runs the whole workspace test suite, and stops what it started.
#
#   ./scripts/test.sh                 # everything
#   ./scripts/test.sh -p stackctl     # extra args go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/standins.sh

if (($#)); then
  cargo test --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast
fi
