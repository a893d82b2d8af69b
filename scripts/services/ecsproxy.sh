# faultproxy at rate 0 in front of moto, for its ECS data plane emulation: deployments that
# roll out and complete, UpdateService starting new ones, DeleteService draining, duplicate
# creates refused, target groups getting the service's tasks (moto does none of it). No
# faults (profile passthrough). Needs moto.sh first: it re-exports STACKCTL_TEST_MOTO as the
# proxy, and STACKCTL_TEST_MOTO_DIRECT is moto itself.
if [[ -z ${STACKCTL_ECSPROXY_STARTED:-} ]]; then
  STACKCTL_ECSPROXY_STARTED=1
  : "${STACKCTL_TEST_MOTO:?ecsproxy.sh needs moto (scripts/services/moto.sh) first}"
  cargo build -q -p faultproxy --bin faultproxy
  ECSPROXY_PORT=$(free_port)
  "${CARGO_TARGET_DIR:-target}/debug/faultproxy" --upstream "$STACKCTL_TEST_MOTO" --rate 0 \
    --profile passthrough --port "$ECSPROXY_PORT" \
    >"$STACKCTL_TEST_STATE/ecsproxy.out" 2>"$STACKCTL_TEST_STATE/ecsproxy.log" &
  ECSPROXY_PID=$!
  CLEANUPS+=("kill $ECSPROXY_PID")
  # Any answer (moto's own API through the proxy) means it listens.
  wait_http "http://127.0.0.1:$ECSPROXY_PORT/moto-api/" 30
  export STACKCTL_TEST_MOTO_DIRECT="$STACKCTL_TEST_MOTO"
  export STACKCTL_TEST_MOTO="http://127.0.0.1:$ECSPROXY_PORT"
  echo "faultproxy (ECS emulation, rate 0) on $STACKCTL_TEST_MOTO in front of moto $STACKCTL_TEST_MOTO_DIRECT"
fi
