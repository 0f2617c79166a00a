#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: CSMS, two nodes in a chain, a grid-operator
# signer and a handful of stations on loopback. Extra arguments go to `ocppnet demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/ocppnet demo "$@"
