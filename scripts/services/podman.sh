# podman for running built images: runc (crun cannot run in this sandbox), vfs storage,
# host networking, fixed ulimits, and the loopback test registry marked insecure.
# The config lives under $STACKCTL_TEST_STATE/podman, fresh each run.
# shellcheck source=scripts/services/registry.sh
source "$ROOT/scripts/services/registry.sh"
apt_install podman runc conmon skopeo
PODMAN_DIR="$STACKCTL_TEST_STATE/podman"
if [[ -f $PODMAN_DIR/storage.conf ]]; then # a previous run's containers, if it was killed
  CONTAINERS_CONF="$PODMAN_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
    podman rm --all --force --time 0 >/dev/null 2>&1 || true
fi
awk -v d="$PODMAN_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
rm -rf "$PODMAN_DIR"
mkdir -p "$PODMAN_DIR"
cat >"$PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
cgroupns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat >"$PODMAN_DIR/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$PODMAN_DIR/storage"
runroot = "$PODMAN_DIR/run"
CONF
cat >"$PODMAN_DIR/registries.conf" <<CONF
unqualified-search-registries = []

[[registry]]
location = "$STACKCTL_TEST_REGISTRY"
insecure = true
CONF
export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$PODMAN_DIR/registries.conf"
podman info >"$STACKCTL_TEST_STATE/podman-info.log" 2>&1 ||
  { echo "podman does not work here: see $STACKCTL_TEST_STATE/podman-info.log" >&2; return 1; }
CLEANUPS+=("podman rm --all --force --time 0 >/dev/null 2>&1")
export STACKCTL_TEST_PODMAN=1
echo "podman $(podman version --format '{{.Client.Version}}') with runc, storage in $PODMAN_DIR"
