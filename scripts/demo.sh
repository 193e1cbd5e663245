#!/usr/bin/env bash
# Runs a whole demo office on this machine: every device simulated, SQLite in ./motcua-data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/motcua demo "$@"
