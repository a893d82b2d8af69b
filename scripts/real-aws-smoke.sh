#!/usr/bin/env bash
# Smoke test in a REAL AWS account (never run by CI): up, call the API with and without its
# token, rotate-token, call again, down, then list anything still tagged with the stack.
#
#   AWS_PROFILE=my-sandbox AWS_REGION=eu-west-3 ./scripts/real-aws-smoke.sh
#
# Needs: credentials allowed to do what `stackctl policy` prints, curl, and the AWS CLI (only
# for the final check). Cost: the stack lives about 10 minutes: an Application Load Balancer
# and two 0.25 vCPU / 0.5 GB Fargate tasks with public IPv4 addresses, well under $0.10
# (see README, "What it costs"). It uses its own stack name, so it never touches yours, and
# it runs `down` even when a step fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${AWS_REGION:?set AWS_REGION (and AWS_PROFILE) to the account and region to test in}"
export AWS_REGION
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }
command -v aws >/dev/null || { echo "the AWS CLI is needed for the final check" >&2; exit 2; }

STACKCTL=${STACKCTL:-}
if [[ -z $STACKCTL ]]; then
  (cd "$ROOT" && cargo build -q --release --bin stackctl)
  STACKCTL="${CARGO_TARGET_DIR:-$ROOT/target}/release/stackctl"
fi
NAME="smoke-$(date +%m%d%H%M)-$RANDOM"
DIR=$(mktemp -d)
cat >"$DIR/stack.yaml" <<YAML
name: $NAME
region: $AWS_REGION
services:
  api:
    build: $ROOT/apps/api
    port: 8080
    desired: 2
    health: /status
    public: true
    token: true
YAML
cd "$DIR"
echo "stack $NAME in $AWS_REGION (files in $DIR)"

down() {
  echo "--- down"
  "$STACKCTL" down --yes || echo "down FAILED: run \`$STACKCTL down --yes\` in $DIR" >&2
  echo "--- still tagged with stackctl:stack=$NAME (expect none):"
  left=$(aws resourcegroupstaggingapi get-resources --region "$AWS_REGION" \
    --tag-filters "Key=stackctl:stack,Values=$NAME" --query 'ResourceTagMappingList[].ResourceARN' --output text)
  if [[ -n $left && $left != None ]]; then
    echo "$left" | tr '\t' '\n'
    echo "FAILED: resources left behind" >&2
    exit 1
  fi
  echo "none"
}
trap down EXIT

call() { # TOKEN EXPECTED-STATUS
  local url=$1 token=$2 want=$3 got
  got=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Token $token" "$url")
  echo "GET $url with ${4:-a token}: $got (want $want)"
  [[ $got == "$want" ]]
}

echo "--- up"
"$STACKCTL" up
URL=$("$STACKCTL" status -o json | sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' | head -n1)
[[ -n $URL ]] || { echo "no URL in status" >&2; exit 1; }
TOKEN=$("$STACKCTL" token api)
call "$URL" "$TOKEN" 200 "the token"
call "$URL" "wrong-$RANDOM" 401 "a wrong token"

echo "--- rotate-token"
NEW=$("$STACKCTL" rotate-token api)
call "$URL" "$NEW" 200 "the new token"
call "$URL" "$TOKEN" 200 "the previous token (still accepted until the next rotation)"
echo "smoke test passed; deleting"
