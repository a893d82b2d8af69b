# PostgreSQL (Debian's package): a throwaway cluster on a free loopback port, for the API's
# storage tests and as the instance behind the emulated RDS. A preset STACKCTL_TEST_POSTGRES_URL
# is used as it is instead.
#
# Like RDS for PostgreSQL 15 and later (rds.force_ssl = 1, scram-sha-256 passwords): other
# users connect over TLS with a password, or not at all; the `postgres` superuser the tests
# administer it with keeps trust.
if [[ -z "${STACKCTL_TEST_POSTGRES_URL:-}" ]]; then
  pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
  [[ -x "$(pg_bin)/pg_ctl" ]] || apt_install postgresql
  PG_BIN=$(pg_bin)
  # PostgreSQL refuses to run as root: run it as the package's `postgres` user then.
  if [[ $(id -u) == 0 ]]; then PG_AS=(runuser -u postgres --); else PG_AS=(); fi
  PG_DIR="$STACKCTL_TEST_STATE/pg"
  rm -rf "$PG_DIR" && mkdir -p "$PG_DIR"
  if ((${#PG_AS[@]})); then
    chown postgres: "$PG_DIR"
    # The state dir may sit where `postgres` cannot reach (e.g. under /root): use /tmp then.
    if ! "${PG_AS[@]}" test -w "$PG_DIR"; then
      PG_DIR=$(mktemp -d /tmp/stackctl-pg.XXXXXX) && chown postgres: "$PG_DIR"
      CLEANUPS+=("rm -rf '$PG_DIR'")
    fi
  fi
  PG_PORT=$(free_port)
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  # A self-signed certificate: the API connects with sslmode=require, as to RDS.
  command -v openssl >/dev/null || apt_install openssl
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$PG_DIR/data/server.key" -out "$PG_DIR/data/server.crt" >/dev/null 2>&1
  chmod 600 "$PG_DIR/data/server.key"
  cat >"$PG_DIR/data/pg_hba.conf" <<'HBA'
local     all  all                    trust
host      all  postgres  127.0.0.1/32 trust
hostssl   all  all       127.0.0.1/32 scram-sha-256
hostnossl all  all       127.0.0.1/32 reject
HBA
  if ((${#PG_AS[@]})); then
    chown postgres: "$PG_DIR/data/server.key" "$PG_DIR/data/server.crt" "$PG_DIR/data/pg_hba.conf"
  fi
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on -c password_encryption=scram-sha-256" \
    >/dev/null || { cat "$PG_DIR/postgres.log" >&2; exit 1; }
  CLEANUPS+=("${PG_AS[*]} '$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m fast -w stop >/dev/null")
  export STACKCTL_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "postgresql $("$PG_BIN/postgres" --version | awk '{print $3}') on $STACKCTL_TEST_POSTGRES_URL"
fi
