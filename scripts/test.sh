#!/usr/bin/env bash
# Runs motcua's whole test suite on this machine: installs what it needs (system packages,
# .venv), starts a local PostgreSQL (for the tests that run on both databases) and Redis,
# then runs pytest. Extra arguments go to pytest, e.g. scripts/test.sh -k queue
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
as_pg() { if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

# PostgreSQL: start the Debian cluster and make a test role and database.
if command -v pg_lsclusters >/dev/null 2>&1; then
  if ! pg_lsclusters -h | grep -q .; then
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  read -r ver name _ < <(pg_lsclusters -h | head -1)
  $SUDO pg_ctlcluster "$ver" "$name" start 2>/dev/null || true
  port=$(pg_lsclusters -h | head -1 | awk '{print $3}')
  for _ in $(seq 1 30); do
    as_pg psql -p "$port" -qAtc "select 1" >/dev/null 2>&1 && break
    sleep 0.5
  done
  as_pg psql -p "$port" -qAtc "select 1 from pg_roles where rolname='motcua'" | grep -q 1 \
    || as_pg psql -p "$port" -qc "create role motcua login createdb password 'motcua'"
  # DROP DATABASE ... WITH (FORCE) must be able to stop an autovacuum worker on a test database.
  as_pg psql -p "$port" -qc "grant pg_signal_backend to motcua" >/dev/null 2>&1 || true
  export MOTCUA_TEST_PG_URL="postgresql://motcua:motcua@127.0.0.1:${port}/postgres"
fi

# Redis: for the Socket.IO message queue across server processes.
if command -v redis-server >/dev/null 2>&1; then
  if ! redis-cli -p 6399 ping >/dev/null 2>&1; then
    redis-server --port 6399 --save "" --appendonly no --daemonize yes >/dev/null
  fi
  export MOTCUA_TEST_REDIS_URL="redis://127.0.0.1:6399/0"
fi

export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || true)}"
# Two test processes (pytest-xdist), a test module's tests in one of them: most tests wait on
# servers, browsers and sockets, so two run in about half the time even on two cores.
# MOTCUA_TEST_WORKERS=0 runs everything in this process (or pass your own -n).
workers=(-n "${MOTCUA_TEST_WORKERS:-2}" --dist loadscope)
for a in "$@"; do
  case "$a" in -n|-n[0-9]*|--numprocesses*|--pdb) workers=() ;; esac
done
[ "${MOTCUA_TEST_WORKERS:-2}" = "0" ] && workers=()
exec .venv/bin/python -m pytest "${workers[@]}" "$@"
