#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the server tests.
#
#   scripts/test-postgres.sh start   # prints `export KAKEHASHI_TEST_POSTGRES_URL=…` (eval it)
#   scripts/test-postgres.sh stop    # stops the cluster and deletes its directory
#
# The cluster lives in a new temporary directory, listens on 127.0.0.1 only with trust
# authentication, on a free port, with fsync off (test data is disposable). The state file
# (default .build/test-postgres.state, override with KAKEHASHI_TEST_POSTGRES_STATE) remembers the
# directory so `stop` finds it. As root, the cluster runs as the `postgres` user, since initdb
# refuses to run as root.
set -euo pipefail

state="${KAKEHASHI_TEST_POSTGRES_STATE:-$(pwd)/.build/test-postgres.state}"

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql; run scripts/install-deps.sh" >&2
    exit 69
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
start)
  # A cluster left behind by an interrupted run is stopped first.
  [ -f "$state" ] && "$0" stop
  bin=$(bindir)
  dir=$(mktemp -d /tmp/kakehashi-pg.XXXXXX)
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null; then
      mkdir -p "$(dirname "$state")"
      printf '%s\n%s\n' "$dir" "$port" >"$state"
      echo "export KAKEHASHI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
stop)
  [ -f "$state" ] || exit 0
  dir=$(sed -n 1p "$state")
  bin=$(bindir)
  if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  case "$dir" in /tmp/kakehashi-pg.*) rm -rf "$dir" ;; esac
  rm -f "$state"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 64
  ;;
esac
