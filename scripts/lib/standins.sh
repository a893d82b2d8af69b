# Sourced by scripts/test.sh and scripts/with-standins.sh (ROOT must be set): installs what
# is missing, starts the local stand-ins (moto behind the ECS emulation proxy, an OCI
# registry, PostgreSQL, podman config) on loopback, and stops them on exit.
export STACKCTL_TEST_STATE="${STACKCTL_TEST_STATE:-$ROOT/.stackctl-test}"
mkdir -p "$STACKCTL_TEST_STATE"
# Keep the (heavy) build between runs and between checkouts of this repo.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stackctl/target}"
# Cargo keys this workspace's own artifacts by paths relative to the workspace, so a checkout
# elsewhere reuses them when its files are older, absolute paths baked in by env!() included
# (tests then read another checkout's files). After a switch, rebuild our crates, not the deps.
checkout_stamp="$CARGO_TARGET_DIR/.stackctl-checkout"
if [[ -f $checkout_stamp && $(cat "$checkout_stamp") != "$ROOT" ]]; then
  echo "target directory last used by $(cat "$checkout_stamp"): rebuilding this workspace's crates"
  (cd "$ROOT" && cargo clean -q -p stackctl -p api -p faultproxy)
fi
mkdir -p "$CARGO_TARGET_DIR" && echo "$ROOT" >"$checkout_stamp"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests that need a stand-in fail (instead of skipping) when it is missing.
export STACKCTL_TEST_REQUIRE_SERVICES=1

CLEANUPS=()
cleanup() { for ((i=${#CLEANUPS[@]}-1; i>=0; i--)); do eval "${CLEANUPS[i]}" || true; done; }
trap cleanup EXIT

# free_port: ask the kernel for an unused loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_http URL [seconds]: poll until URL answers.
wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "timed out waiting for $url" >&2; return 1; }
    sleep 0.2
  done
}
APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  ((APT_UPDATED)) || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Each file in scripts/services/ installs and starts one stand-in, exports its address
# and registers its stop command in CLEANUPS. The ECS emulation proxy goes right after moto,
# in front of it.
for svc in scripts/services/*.sh; do
  if [[ $svc == */ecsproxy.sh ]]; then continue; fi
  # shellcheck source=/dev/null
  source "$svc"
  if [[ $svc == */moto.sh ]]; then
    # shellcheck source=scripts/services/ecsproxy.sh
    source scripts/services/ecsproxy.sh
  fi
done

