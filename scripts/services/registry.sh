# OCI registry: Debian's docker-registry (distribution v2) on a free loopback port, plain
# HTTP, storage in a temp dir removed at exit. skopeo is the tests' independent client.
if [[ -z ${STACKCTL_REGISTRY_STARTED:-} ]]; then
  STACKCTL_REGISTRY_STARTED=1
  apt_install docker-registry skopeo
  REGISTRY_PORT=$(free_port)
  REGISTRY_DIR=$(mktemp -d "$STACKCTL_TEST_STATE/registry.XXXXXX")
  CLEANUPS+=("rm -rf '$REGISTRY_DIR'")
  cat >"$REGISTRY_DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YAML
  docker-registry serve "$REGISTRY_DIR/config.yml" >"$STACKCTL_TEST_STATE/registry.log" 2>&1 &
  REGISTRY_PID=$!
  CLEANUPS+=("kill $REGISTRY_PID")
  wait_http "http://127.0.0.1:$REGISTRY_PORT/v2/" 30
  export STACKCTL_TEST_REGISTRY="127.0.0.1:$REGISTRY_PORT"
  # moto starts first; its stand-in for ECR's scans (fidelity_ecr_scan.py) reads it here.
  echo "$STACKCTL_TEST_REGISTRY" >"$STACKCTL_TEST_STATE/registry.address"
  echo "registry (docker-registry $(dpkg-query -W -f '${Version}' docker-registry)) on $STACKCTL_TEST_REGISTRY"
fi
