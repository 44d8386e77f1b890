#!/usr/bin/env bash
# The benchmarks, bounded. `make bench` runs the reduced set (10k and 100k requests;
# SQLite, and PostgreSQL if a throwaway server can start) in well under 15 minutes.
#   bash bench/run.sh          reduced: results in bench/results/*-quick.json
#   bash bench/run.sh full     the figures of RESULTS.md (1M requests; about 2 hours)
# Data sets are kept in $GONGKAI_BENCH_DIR (default /tmp/gongkai-bench) and reused; the
# PostgreSQL server is started once for the whole run and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mode=${1:-quick}

export GONGKAI_PG_PORT=${GONGKAI_PG_PORT:-54392}
export GONGKAI_PG_DATA=${GONGKAI_PG_DATA:-/tmp/gk-pg-$GONGKAI_PG_PORT}
dialects=sqlite
if [ -z "${GONGKAI_BENCH_PG_URL:-}" ]; then
  if GONGKAI_BENCH_PG_URL=$(tools/pg-test-server.sh start 2>/dev/null); then
    export GONGKAI_BENCH_PG_URL
    trap 'tools/pg-test-server.sh stop' EXIT
    dialects=sqlite,postgresql
  else
    echo "PostgreSQL could not start: SQLite only" >&2
  fi
else
  dialects=sqlite,postgresql
fi
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }

if [ "$mode" = full ]; then
  $PY bench/datasets.py --sizes 10k,100k,1m --dialects "$dialects"
  $PY bench/bench_stats.py --sizes 10k,100k --dialects "$dialects" --name stats
  $PY bench/bench_stats.py --sizes 1m --dialects "$dialects" --name stats-1m
  $PY bench/bench_pages.py --size 1m --dialects "$dialects" --seconds 8 --name pages-1m
  $PY bench/bench_pages.py --size 100k --dialects "$dialects" --seconds 8 --name pages-100k
  $PY bench/bench_queries.py --size 1m --dialects "$dialects" --name queries-1m
  $PY bench/bench_search.py --sizes 100k,1m --dialects "$dialects" --name search-1m
  $PY bench/bench_writes.py --base 100k --clients 2,4 --dialects "$dialects" --seconds 20
  $PY bench/bench_import.py --rows 10k,100k --dialects "$dialects"
  $PY bench/bench_documents.py --size 1m --dialects "$dialects" --notices 1000
  $PY bench/plot.py || true
else
  $PY bench/datasets.py --sizes 10k,100k --dialects "$dialects"
  $PY bench/bench_stats.py --sizes 10k,100k --dialects "$dialects" --name stats-quick
  $PY bench/bench_pages.py --size 100k --dialects "$dialects" --seconds 3 --name pages-quick
  $PY bench/bench_writes.py --base 10k --clients 4 --dialects "$dialects" --seconds 10 \
    --name writes-quick
  $PY bench/bench_import.py --rows 3k --dialects "$dialects" --name import-quick
  $PY bench/bench_search.py --sizes 10k --dialects "$dialects" --repeat 5 --name search-quick
  $PY bench/bench_documents.py --size 100k --dialects "$dialects" --notices 200 \
    --name documents-quick
fi
