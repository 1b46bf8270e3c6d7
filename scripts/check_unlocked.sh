#!/usr/bin/env bash
# The calibration on the newest libraries, not the locked ones: a fresh virtual environment without
# requirements.lock, then the tests that refit the serving model and compare with the stored factors
# and the published back-test (tests/test_calibration.py, tolerances in atlas_xl.calibration.FIT_TOLERANCE).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade -e '.[test]'
"$venv/bin/pip" list 2>/dev/null | grep -iE '^(numpy|scipy|pandas) '
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_calibration.py
