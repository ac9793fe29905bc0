#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of distributed search.
#
# Sourced by .ci/run (or by hand: `source .ci/test-postgres.sh && start_test_postgres`):
# installs Debian's `postgresql` when no initdb is found, creates a cluster in a
# temporary folder (owned by the `postgres` user when run as root), listening on
# 127.0.0.1 at a free port with its socket in the cluster folder and fsync off,
# exports METANAS_TEST_POSTGRES=postgres://postgres:metanas@127.0.0.1:PORT/postgres
# (password `metanas`, required over TCP), METANAS_TEST_POSTGRES_BIN (its programs) and
# stops and removes the cluster when the shell exits.

test_postgres_bin() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  fi
  dirname "$initdb"
}

# Runs a PostgreSQL program as the `postgres` user (as root) or as oneself.
test_postgres_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

test_postgres_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_test_postgres() {
  if [ -n "${TEST_POSTGRES_DIR:-}" ] && [ -d "$TEST_POSTGRES_DIR" ]; then
    test_postgres_as_owner "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TEST_POSTGRES_DIR"
  fi
}

start_test_postgres() {
  TEST_POSTGRES_BIN=$(test_postgres_bin)
  TEST_POSTGRES_DIR=$(mktemp -d /tmp/metanas-postgres.XXXXXX)
  chmod 755 "$TEST_POSTGRES_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$TEST_POSTGRES_DIR"; fi
  local port
  port=$(test_postgres_free_port)
  # Connections over TCP need the password (so a wrong one is refused, as on a real server).
  echo metanas > "$TEST_POSTGRES_DIR/password"
  if [ "$(id -u)" = 0 ]; then chown postgres "$TEST_POSTGRES_DIR/password"; fi
  test_postgres_as_owner "$TEST_POSTGRES_BIN/initdb" -D "$TEST_POSTGRES_DIR/data" -U postgres --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$TEST_POSTGRES_DIR/password" >/dev/null
  test_postgres_as_owner "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -l "$TEST_POSTGRES_DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $TEST_POSTGRES_DIR -c fsync=off -c max_connections=200" start >/dev/null
  trap stop_test_postgres EXIT
  export METANAS_TEST_POSTGRES="postgres://postgres:metanas@127.0.0.1:$port/postgres"
  export METANAS_TEST_POSTGRES_BIN="$TEST_POSTGRES_BIN"
  echo "PostgreSQL test cluster: $METANAS_TEST_POSTGRES ($TEST_POSTGRES_DIR)"
}
