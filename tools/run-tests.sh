#!/usr/bin/env bash
# The whole suite: everything on SQLite, then the database-facing tests on a real
# PostgreSQL server started here and stopped afterwards. pytest's exit code 5
# ("no tests collected") is a failure, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

run_pytest() {
  "$PY" -m pytest "$@"
  local rc=$?
  if [ "$rc" = 5 ]; then echo "pytest collected no tests: failing" >&2; return 1; fi
  return "$rc"
}

echo "== SQLite: whole suite =="
run_pytest -q tests || exit 1

echo "== PostgreSQL: integration suite =="
url=$(tools/pg-test-server.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
trap 'tools/pg-test-server.sh stop' EXIT
GONGKAI_TEST_DATABASE_URL="$url" run_pytest -q -m "not browser" tests/integration || exit 1
