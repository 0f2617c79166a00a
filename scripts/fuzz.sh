#!/usr/bin/env bash
# Coverage-guided fuzzing (atheris/libFuzzer) of one target, or of all for SECONDS each:
#   scripts/fuzz.sh codec 600       scripts/fuzz.sh all 5
# Targets: codec, binary, canonical, signatures, ocmf, config (tests/fuzz/targets.py). New
# interesting inputs go to tests/fuzz/corpus/<target>/ (commit the ones worth keeping: they
# become regression tests through tests/fuzz/test_corpus.py); a crash fails the run and is
# written there as crash-*. Prints executions per second per target.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET|all SECONDS}
if [ "$target" = all ]; then
    targets=(codec binary canonical signatures ocmf config)
else
    targets=("$target")
fi
for t in "${targets[@]}"; do
    scratch=$(mktemp -d)  # new inputs of a short run are not added to the committed corpus
    cp -r "tests/fuzz/corpus/$t/." "$scratch/"
    log=$(mktemp)
    if ! .venv/bin/python -m tests.fuzz.run "$t" "$seconds" --corpus "$scratch" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $t FAILED (inputs in $scratch)"
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
    echo "fuzz: $t ok, ${runs:-?} executions in ${seconds} s ($(( ${runs:-0} / seconds ))/s)"
    rm -rf "$scratch" "$log"
done
