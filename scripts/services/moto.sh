# moto server: the AWS API emulator (pinned), on a free loopback port, with the fixes in
# moto_fidelity.py.
MOTO_VERSION=5.2.5
if ! python3 -c "import moto, flask; assert moto.__version__ == '$MOTO_VERSION'" 2>/dev/null; then
  python3 -m pip install -q "moto[server]==$MOTO_VERSION"
fi
MOTO_PORT=$(free_port)
# ACM issues a certificate this many seconds after its validation record is in a public zone
# (minutes on AWS; fidelity_https.py makes it need the record).
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING="${MOTO_ECS_SERVICE_RUNNING:-2}" \
  MOTO_ACM_VALIDATION_WAIT="${MOTO_ACM_VALIDATION_WAIT:-3}" \
  python3 "$(dirname "${BASH_SOURCE[0]}")/moto_fidelity.py" -H 127.0.0.1 -p "$MOTO_PORT" \
  >"$STACKCTL_TEST_STATE/moto.log" 2>&1 &
MOTO_PID=$!
CLEANUPS+=("kill $MOTO_PID")
wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 120
export STACKCTL_TEST_MOTO="http://127.0.0.1:$MOTO_PORT"
echo "moto $MOTO_VERSION on $STACKCTL_TEST_MOTO"
