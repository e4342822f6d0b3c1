#!/usr/bin/env bash
# A throwaway PostgreSQL server for crmkit's database tests.
#
# Installs the Debian package `postgresql` when initdb/pg_ctl are missing
# (root + apt-get only), creates a cluster in a temporary directory and starts
# it on a unix socket in that directory (no TCP port is opened), then exports
#
#   CRMKIT_TEST_POSTGRES_URL=postgresql://crmkit@/postgres?host=<socket dir>
#
# Tests that need PostgreSQL read that variable (and skip with a reason when
# it is absent). Two ways to use it:
#
#   source .ci/postgres.sh        # defines the two functions below
#   crmkit_postgres_start         # exports CRMKIT_TEST_POSTGRES_URL (or warns)
#   ...                           # run the tests
#   crmkit_postgres_stop          # stops the server and deletes its directory
#
#   bash .ci/postgres.sh CMD ...  # start, run CMD with the variable set, stop;
#                                 # exits with CMD's status
#
# When no server can be installed or started, crmkit_postgres_start prints why,
# leaves the variable unset and returns 0 (the tests then skip with a reason),
# unless CRMKIT_REQUIRE_POSTGRES=1, when it returns 1.

crmkit_postgres_bindir() {
  local d
  # The Debian package's own directory first (the newest version), then PATH.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

_crmkit_postgres_fail() {
  echo "== postgres: $* (database tests will skip)" >&2
  unset CRMKIT_TEST_POSTGRES_URL
  if [ "${CRMKIT_REQUIRE_POSTGRES:-0}" = 1 ]; then
    return 1
  fi
  return 0
}

crmkit_postgres_start() {
  local bindir runas=()
  if ! bindir=$(crmkit_postgres_bindir); then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "== postgres: apt-get install postgresql" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql >/dev/null
    fi
    bindir=$(crmkit_postgres_bindir) || {
      _crmkit_postgres_fail "no PostgreSQL server and no root apt-get to install one"
      return $?
    }
  fi
  CRMKIT_POSTGRES_DIR=$(mktemp -d /tmp/crmkit-pg.XXXXXX)
  export CRMKIT_POSTGRES_DIR
  mkdir -p "$CRMKIT_POSTGRES_DIR/data" "$CRMKIT_POSTGRES_DIR/socket"
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to an unprivileged user.
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    chown -R "$user" "$CRMKIT_POSTGRES_DIR"
    chmod 755 "$CRMKIT_POSTGRES_DIR"
    runas=(runuser -u "$user" --)
  fi
  CRMKIT_POSTGRES_RUNAS=${runas[*]:-}
  export CRMKIT_POSTGRES_RUNAS
  if ! "${runas[@]}" "$bindir/initdb" -D "$CRMKIT_POSTGRES_DIR/data" -U crmkit -A trust \
      -E UTF8 --locale=C --no-sync >"$CRMKIT_POSTGRES_DIR/initdb.log" 2>&1; then
    cat "$CRMKIT_POSTGRES_DIR/initdb.log" >&2
    rm -rf "$CRMKIT_POSTGRES_DIR"
    _crmkit_postgres_fail "initdb failed"
    return $?
  fi
  if ! "${runas[@]}" "$bindir/pg_ctl" -D "$CRMKIT_POSTGRES_DIR/data" -w -t 60 \
      -l "$CRMKIT_POSTGRES_DIR/server.log" \
      -o "-c listen_addresses='' -k $CRMKIT_POSTGRES_DIR/socket -c fsync=off \
-c full_page_writes=off -c synchronous_commit=off" start >/dev/null; then
    cat "$CRMKIT_POSTGRES_DIR/server.log" >&2
    rm -rf "$CRMKIT_POSTGRES_DIR"
    _crmkit_postgres_fail "the server did not start"
    return $?
  fi
  CRMKIT_POSTGRES_BINDIR=$bindir
  export CRMKIT_POSTGRES_BINDIR
  export CRMKIT_TEST_POSTGRES_URL="postgresql://crmkit@/postgres?host=$CRMKIT_POSTGRES_DIR/socket"
  echo "== postgres: server started on $CRMKIT_POSTGRES_DIR/socket (no TCP)" >&2
}

crmkit_postgres_stop() {
  if [ -n "${CRMKIT_POSTGRES_DIR:-}" ] && [ -d "$CRMKIT_POSTGRES_DIR" ]; then
    # shellcheck disable=SC2086
    $CRMKIT_POSTGRES_RUNAS "$CRMKIT_POSTGRES_BINDIR/pg_ctl" -D "$CRMKIT_POSTGRES_DIR/data" \
      -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$CRMKIT_POSTGRES_DIR"
  fi
  unset CRMKIT_POSTGRES_DIR CRMKIT_TEST_POSTGRES_URL
}

# Executed (not sourced): start, run the command, stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  trap crmkit_postgres_stop EXIT
  crmkit_postgres_start
  if [ $# -eq 0 ]; then
    echo "CRMKIT_TEST_POSTGRES_URL=${CRMKIT_TEST_POSTGRES_URL:-}"
    exit 0
  fi
  set +e
  "$@"
  exit $?
fi
