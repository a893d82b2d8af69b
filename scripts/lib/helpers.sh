# Sourced by the test harness and the benchmarks: cleanup on exit, free ports, waiting for an
# HTTP endpoint, installing missing Debian packages.

# Commands to run on exit, last registered first.
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
# apt_install PACKAGE...: install the Debian packages that are missing (one apt-get update).
APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  ((APT_UPDATED)) || { apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
