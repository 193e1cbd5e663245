#!/usr/bin/env bash
# Installs everything motcua needs on a Debian machine: system packages (apt) and a Python
# virtual environment in .venv with motcua installed in editable mode. Safe to run again:
# it only installs what is missing. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

pkgs=(python3 python3-venv python3-dev libzbar0 espeak-ng fonts-dejavu-core sox libjs-chart.js)
if [ "$want_test" = 1 ]; then
  pkgs+=(chromium postgresql redis-server tesseract-ocr tesseract-ocr-vie nginx)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[motcua] installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[motcua] creating .venv"
  "$PY" -m venv .venv
fi
extra=""
[ "$want_test" = 1 ] && extra="[test]"
stamp=".venv/.motcua-installed${extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[motcua] installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extra}"
  touch "$stamp"
fi
