#!/usr/bin/env bash
# Run a command with the local stand-ins up (what scripts/test.sh uses), e.g. to try
# stackctl without an AWS account:
#
#   ./scripts/with-standins.sh bash -c 'AWS_ENDPOINT_URL=$STACKCTL_TEST_MOTO stackctl up'
#
# Exported: STACKCTL_TEST_MOTO (moto behind the ECS emulation), STACKCTL_TEST_MOTO_DIRECT,
# STACKCTL_TEST_REGISTRY, STACKCTL_TEST_POSTGRES_URL, STACKCTL_TEST_PODMAN.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/standins.sh
"$@"
