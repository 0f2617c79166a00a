#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs lint, type checks, the test suite and the benchmark smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check src tests benchmarks
echo "== mypy --strict"; .venv/bin/mypy src
echo "== pytest"; .venv/bin/pytest -p no:cacheprovider "$@"
echo "== fuzz (each target a few seconds; scripts/fuzz.sh TARGET SECONDS for longer)"
./scripts/fuzz.sh all "${OCPPNET_FUZZ_SECONDS:-3}"
if [ -f benchmarks/__main__.py ]; then
    echo "== benchmark smoke"; .venv/bin/python -m benchmarks all --quick --out "${TMPDIR:-/tmp}/ocppnet-bench-smoke"
fi
echo "== soak smoke (python -m benchmarks.soak for the 30-minute run)"
.venv/bin/python -m benchmarks.soak --seconds 30 --stations 100 --sample 5 \
    --out "${TMPDIR:-/tmp}/ocppnet-soak-smoke"
