#!/usr/bin/env bash
# Creates .venv and installs ocppnet with its development dependencies (idempotent).
# On a Debian machine where we are root, it also installs the real peers the tests use:
# PostgreSQL (the store's second backend), Chromium (the browser tests) and zbar-tools
# (zbarimg reads the web-payment QR codes like a phone's camera), nats-server and HAProxy
# (the scale-out tests: docs/scale-out.md).
# Set OCPPNET_NO_APT=1 to skip that part.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

apt_missing=()
if [ -z "${OCPPNET_NO_APT:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_missing+=(postgresql)
    [ -x /usr/bin/chromium ] || apt_missing+=(chromium)
    command -v npm >/dev/null || apt_missing+=(npm)  # vendors the page libraries (vendor-js.sh)
    command -v zbarimg >/dev/null || apt_missing+=(zbar-tools)  # decodes the stations' QR codes
    command -v nats-server >/dev/null || apt_missing+=(nats-server)  # scale-out bus (JetStream)
    command -v haproxy >/dev/null || apt_missing+=(haproxy)  # load balancer of the scale-out tests
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "setup: installing ${apt_missing[*]} from Debian (once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null \
        || echo "setup: apt-get install ${apt_missing[*]} failed; the tests that need them skip"
fi

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -U pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
./scripts/vendor-js.sh
