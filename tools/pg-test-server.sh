#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server for the test suite on a local port.
# Usage: tools/pg-test-server.sh start|stop   (prints the DATABASE_URL on start)
# Installs Debian's postgresql package when the server binaries are missing.
set -euo pipefail
PORT=${GONGKAI_PG_PORT:-54329}
DATA=${GONGKAI_PG_DATA:-/tmp/gongkai-pg-$PORT}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-}" in
  start)
    if [ -z "$BIN" ] || [ ! -x "$BIN/postgres" ]; then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    if ! as_pg "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
      rm -rf "$DATA"; mkdir -p "$DATA"
      [ "$(id -u)" = 0 ] && chown postgres "$DATA"
      as_pg "$BIN/initdb -D $DATA -U gongkai --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
      as_pg "$BIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l $DATA/log -w start" >/dev/null
      as_pg "$BIN/createdb -h 127.0.0.1 -p $PORT -U gongkai gongkai_test"
    fi
    echo "postgresql+psycopg://gongkai@127.0.0.1:$PORT/gongkai_test"
    ;;
  stop)
    if [ -n "$BIN" ] && [ -d "$DATA" ]; then
      as_pg "$BIN/pg_ctl -D $DATA -m fast -w stop" >/dev/null 2>&1 || true
      rm -rf "$DATA"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
