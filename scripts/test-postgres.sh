#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests (README, "Tests on PostgreSQL").
#
#   eval "$(scripts/test-postgres.sh start)"   # prints the exports: TEST_DATABASE_URL, TEST_POSTGRES_DIR
#   npm test
#   scripts/test-postgres.sh stop               # stops the server and removes its folder ($TEST_POSTGRES_DIR)
#   scripts/test-postgres.sh installed          # exit 0 when initdb and pg_ctl are found
#
# The cluster lives in a new temporary folder (data, log and unix socket), listens on 127.0.0.1 only at a free port,
# trusts connections from 127.0.0.1 and the folder's socket only, and runs as the `postgres` user when started by root
# (initdb refuses root). Durability is off (fsync, synchronous_commit): the data is thrown away at the end.
set -euo pipefail

# Debian puts the server's programs in /usr/lib/postgresql/<version>/bin; the newest version found wins.
find_bin_dir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
    return 0
  fi
  return 1
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Runs a command as the server's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin
  if ! bin=$(find_bin_dir); then
    echo "PostgreSQL's server programs (initdb, pg_ctl) were not found: install Debian's package with" >&2
    echo "  apt-get install -y postgresql" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "Running as root needs a 'postgres' user to own the server (Debian's postgresql package creates it)" >&2
    exit 1
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/test-postgres.XXXXXX")
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  # Trust only the folder's own socket and 127.0.0.1.
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | as_owner tee "$dir/data/pg_hba.conf" >/dev/null
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
      break
    fi
    echo "PostgreSQL did not start on port $port (attempt $attempt); retrying" >&2
    port=""
  done
  if [ -z "$port" ]; then
    cat "$dir/server.log" >&2 || true
    rm -rf "$dir"
    exit 1
  fi
  local ready=""
  for attempt in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
    sleep 0.5
  done
  if [ -z "$ready" ] || ! "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE dashboard_test" >/dev/null; then
    echo "PostgreSQL started but did not accept connections:" >&2
    cat "$dir/server.log" >&2 || true
    stop "$dir"
    exit 1
  fi
  echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/dashboard_test"
  echo "export TEST_POSTGRES_DIR=$dir"
}

stop() {
  local dir="${1:-${TEST_POSTGRES_DIR:-}}"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "No test server folder to stop (give it as an argument or in TEST_POSTGRES_DIR)" >&2
    return 0
  fi
  case "$(basename "$dir")" in
    test-postgres.*) ;;
    *) echo "Refusing to remove $dir: not a folder this script made" >&2; exit 1 ;;
  esac
  local bin
  if bin=$(find_bin_dir) && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  installed) find_bin_dir >/dev/null ;;
  *)
    echo "Usage: $0 start | stop [folder] | installed" >&2
    exit 2
    ;;
esac
