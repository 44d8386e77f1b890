#!/usr/bin/env bash
# The whole suite: everything on SQLite, then the database-facing tests on a real
# PostgreSQL server started here and stopped afterwards. pytest's exit code 5
# ("no tests collected") is a failure, never a silent pass.
#
# Both passes run in parallel with pytest-xdist: GONGKAI_TEST_WORKERS processes (default
# "auto": one per CPU). Each worker builds its own template databases (tests/templates.py);
# the browser tests share one server, so they all run on one worker (--dist loadgroup).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PARALLEL=(-n "${GONGKAI_TEST_WORKERS:-auto}" --dist loadgroup)

run_pytest() {
  "$PY" -m pytest "$@"
  local rc=$?
  if [ "$rc" = 5 ]; then echo "pytest collected no tests: failing" >&2; return 1; fi
  return "$rc"
}

echo "== SQLite: whole suite =="
run_pytest -q "${PARALLEL[@]}" tests || exit 1

echo "== PostgreSQL: integration suite =="
url=$(tools/pg-test-server.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
trap 'tools/pg-test-server.sh stop' EXIT
GONGKAI_TEST_DATABASE_URL="$url" run_pytest -q "${PARALLEL[@]}" -m "not browser" tests/integration || exit 1

# ---- background jobs on a real Redis server (jobs/, tests/integration/test_jobs.py) ----
echo "== Redis: background jobs =="
redis_url=$(tools/redis-test-server.sh start) || { echo "could not start Redis" >&2; exit 1; }
trap 'tools/pg-test-server.sh stop; tools/redis-test-server.sh stop' EXIT
# The job queue, and the shared counters (login throttling, rate limits) on Redis.
GONGKAI_TEST_REDIS_URL="$redis_url" run_pytest -q tests/integration/test_jobs.py \
  tests/integration/test_trust_accounts.py tests/integration/test_throttle_workers.py \
  -k "jobs or redis" || exit 1

# ---- two hosts: 2 gunicorn servers sharing only PostgreSQL and Redis ----
# The web scenarios of test_two_hosts.py (session, upload → worker → other host, health)
# and the whole JSON API suite, every connection alternating between the two servers.
echo "== Two hosts: PostgreSQL + Redis, 2 gunicorn servers =="
GONGKAI_TEST_TWO_HOSTS=1 GONGKAI_TEST_DATABASE_URL="$url" GONGKAI_TEST_REDIS_URL="$redis_url" \
  run_pytest -q tests/integration/test_two_hosts.py tests/integration/test_api.py || exit 1
# ---- end of the Redis block ----
