#!/usr/bin/env bash
# Start or stop a throwaway Redis server for the background-jobs test pass on a local port.
# Usage: tools/redis-test-server.sh start|stop   (prints the GONGKAI_REDIS_URL on start)
# Installs Debian's redis-server package when it is missing. Loopback only, no disk.
set -euo pipefail
PORT=${GONGKAI_REDIS_PORT:-56379}
DIR=${GONGKAI_REDIS_DIR:-/tmp/gongkai-redis-$PORT}

case "${1:-}" in
  start)
    if ! command -v redis-server >/dev/null; then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    fi
    if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
      mkdir -p "$DIR"
      redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no \
        --dir "$DIR" --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/log" >/dev/null
      for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
    fi
    echo "redis://127.0.0.1:$PORT/0"
    ;;
  stop)
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
