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
  (cd "$ROOT" && cargo clean -q -p stackctl -p api -p kit -p users -p web -p faultproxy)
fi
mkdir -p "$CARGO_TARGET_DIR" && echo "$ROOT" >"$checkout_stamp"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests that need a stand-in fail (instead of skipping) when it is missing.
export STACKCTL_TEST_REQUIRE_SERVICES=1

# shellcheck source=scripts/lib/helpers.sh
source "$ROOT/scripts/lib/helpers.sh"

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

