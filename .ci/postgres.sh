# shellcheck shell=bash
# Sourced by .ci/run: `start_postgres` starts a throwaway PostgreSQL for the tests and exports
# HEIST_TEST_PG_URL (test/helpers/postgres.ts then gives each test file a fresh database on it);
# `stop_postgres` stops it and removes its directory. The cluster lives in a temp directory,
# listens on a free loopback port only (unix socket in that directory), uses password auth with a
# random password, and runs as an unprivileged user when we are root (postgres, else nobody).
# fsync is off: CI does not pull the plug. Binaries: $HEIST_PG_BIN, initdb on PATH, or the newest
# /usr/lib/postgresql/<version>/bin.

_heist_pg_runas() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$HEIST_PG_USER" -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local bin="${HEIST_PG_BIN:-}"
  if [ -z "$bin" ]; then
    if command -v initdb >/dev/null 2>&1; then
      bin="$(dirname "$(command -v initdb)")"
    else
      bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    fi
  fi
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "start_postgres: no PostgreSQL server binaries (initdb, pg_ctl) found" >&2
    return 1
  fi
  HEIST_PG_BIN_DIR="$bin"
  HEIST_PG_USER="$(id -un)"
  if [ "$(id -u)" = 0 ]; then
    HEIST_PG_USER=postgres
    id -u postgres >/dev/null 2>&1 || HEIST_PG_USER=nobody
  fi
  HEIST_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/heist-ci-pg.XXXXXX")"
  local password port
  password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  port="$(node -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });")"
  printf '%s\n' "$password" >"$HEIST_PG_DIR/pw"
  if [ "$(id -u)" = 0 ]; then chown -R "$HEIST_PG_USER" "$HEIST_PG_DIR"; fi
  if ! _heist_pg_runas "$bin/initdb" -D "$HEIST_PG_DIR/data" -U heist --auth=scram-sha-256 \
    --pwfile="$HEIST_PG_DIR/pw" -E UTF8 --locale=C -N >"$HEIST_PG_DIR/initdb.log" 2>&1; then
    cat "$HEIST_PG_DIR/initdb.log" >&2
    rm -rf "$HEIST_PG_DIR"
    return 1
  fi
  rm -f "$HEIST_PG_DIR/pw"
  if ! _heist_pg_runas "$bin/pg_ctl" -D "$HEIST_PG_DIR/data" -l "$HEIST_PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $HEIST_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >/dev/null; then
    cat "$HEIST_PG_DIR/server.log" >&2
    rm -rf "$HEIST_PG_DIR"
    return 1
  fi
  export HEIST_TEST_PG_URL="postgres://heist:$password@127.0.0.1:$port/postgres"
  echo "start_postgres: PostgreSQL on 127.0.0.1:$port ($("$bin/postgres" --version))"
}

stop_postgres() {
  if [ -z "${HEIST_PG_DIR:-}" ]; then return 0; fi
  _heist_pg_runas "$HEIST_PG_BIN_DIR/pg_ctl" -D "$HEIST_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$HEIST_PG_DIR"
  unset HEIST_PG_DIR HEIST_TEST_PG_URL
}
