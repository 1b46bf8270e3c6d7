#!/usr/bin/env bash
# Regenerate requirements.lock: every dependency of atlas-xl and of its test, dask and parquet extras,
# resolved to the newest versions the registry serves for Python 3.11 on Linux, pinned exactly.
# The README's two commands and .ci/run install with `pip install -c requirements.lock ...`, so a
# fresh machine gets the set the suite passed on; pyproject.toml keeps ranges for library users.
# Run it, run the suite, commit both. (pip-tools: its output is a plain requirements file that the
# pip of every virtual environment reads, so installing needs no extra tool.)
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/pip" install -q "pip-tools>=7.4"
"$tools/venv/bin/pip-compile" -q --upgrade --strip-extras --extra test --extra dask --extra parquet \
    --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
