# Browser: Debian's Chromium, driven headless over the DevTools protocol by the two-tier
# browser test (tests/common/browser.rs). Nothing to start here: each test launches its own
# browser with a fresh profile. Exported: STACKCTL_TEST_CHROMIUM, the binary to launch.
if [[ -z ${STACKCTL_TEST_CHROMIUM:-} ]]; then
  apt_install chromium
  # /usr/bin/chromium is a wrapper script that adds flags from /etc/chromium.d; the test
  # launches the real binary with its own flags.
  STACKCTL_TEST_CHROMIUM=/usr/lib/chromium/chromium
  [[ -x $STACKCTL_TEST_CHROMIUM ]] || STACKCTL_TEST_CHROMIUM=$(command -v chromium)
  export STACKCTL_TEST_CHROMIUM
  echo "browser ($("$STACKCTL_TEST_CHROMIUM" --version 2>/dev/null | head -1)) at $STACKCTL_TEST_CHROMIUM"
fi
