#!/usr/bin/env bash
# A scale-out CSMS on one machine (docs/scale-out.md, "Set-up on one machine"):
# nats-server with JetStream, PostgreSQL, N `ocppnet csms --bus ...` front-ends on ports of
# their own, and HAProxy (TCP mode, health checks, redispatch) in front of them.
#
#   scripts/cluster.sh start [--frontends N] [--port 9000] [--http-port 8080]
#                            [--nats-port 4222] [--store postgresql://...] [--config csms.toml]
#                            [--maxconn 9000] [--dir DIR]
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh stop   [--dir DIR]
#
# Stations connect to ws://127.0.0.1:PORT/ocpp/<station id> (HAProxy); front-end i listens
# on PORT+i (WebSocket) and HTTP_PORT+i (dashboard, operator API, /api/v1/cluster/...).
# Without --store a throw-away PostgreSQL cluster is made with initdb under DIR/pg.
# Everything lives under DIR (default ./cluster-run): configuration, logs, pid files.
# Configuration templates: scripts/cluster/nats.conf and scripts/cluster/haproxy.cfg.
# The single-process CSMS (`ocppnet csms`, no bus) needs none of this.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TEMPLATES=$ROOT/scripts/cluster
OCPPNET=${OCPPNET:-$ROOT/.venv/bin/ocppnet}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
fail() { echo "cluster.sh: $*" >&2; exit 1; }

command=${1:-}; [ -n "$command" ] || usage; shift
DIR=./cluster-run FRONTENDS=3 PORT=9000 HTTP_PORT=8080 NATS_PORT=4222 STORE="" CONFIG=""
MAXCONN=9000  # HAProxy holds 2 sockets per station: 18,000 of the usual 20,000 descriptors
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) DIR=$2; shift 2 ;;
        --frontends) FRONTENDS=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --http-port) HTTP_PORT=$2; shift 2 ;;
        --nats-port) NATS_PORT=$2; shift 2 ;;
        --store) STORE=$2; shift 2 ;;
        --maxconn) MAXCONN=$2; shift 2 ;;
        --config) CONFIG=$2; shift 2 ;;
        -h|--help) usage ;;
        *) fail "unknown option $1 (see --help)" ;;
    esac
done
[[ $FRONTENDS =~ ^[1-9][0-9]?$ ]] || fail "--frontends: expected 1..99, got $FRONTENDS"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

find_bin() {  # name [extra dir glob]: the binary, or fail naming it
    local found
    found=$(PATH="$PATH:/usr/sbin:/sbin:$(ls -d ${2:-/nonexistent} 2>/dev/null | sort -r | tr '\n' ':')" \
            command -v "$1" || true)
    [ -n "$found" ] || fail "$1 is not installed (scripts/setup.sh installs it from Debian)"
    echo "$found"
}

render() {  # template output NAME=VALUE...: every @NAME@ replaced (SERVERS may span lines)
    local template=$1 out=$2; shift 2
    cp "$TEMPLATES/$template" "$out.tmp"
    for pair in "$@"; do
        local name=${pair%%=*} value=${pair#*=}
        NAME="@$name@" VALUE="$value" awk '{
            n = index($0, ENVIRON["NAME"])
            while (n > 0) {
                $0 = substr($0, 1, n - 1) ENVIRON["VALUE"] substr($0, n + length(ENVIRON["NAME"]))
                n = index($0, ENVIRON["NAME"])
            }
            print }' "$out.tmp" > "$out.tmp2" && mv "$out.tmp2" "$out.tmp"
    done
    mv "$out.tmp" "$out"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # what command...: retry for 30 s
    local what=$1; shift
    for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    fail "$what did not come up (logs in $DIR)"
}

start_bg() {  # name command...: run in the background, pid in DIR/name.pid, log DIR/name.log
    local name=$1; shift
    alive "$DIR/$name.pid" && fail "$name is already running (pid $(cat "$DIR/$name.pid"))"
    nohup "$@" >"$DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/$name.pid"
}

pg_as() {  # PostgreSQL refuses to run as root
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    local initdb pg_ctl
    initdb=$(find_bin initdb "/usr/lib/postgresql/*/bin")
    pg_ctl=$(find_bin pg_ctl "/usr/lib/postgresql/*/bin")
    mkdir -p "$DIR/pg"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$DIR/pg"
        runuser -u postgres -- test -x "$DIR/pg" \
            || fail "the postgres user cannot reach $DIR (a parent directory is private): use another --dir or --store"
    fi
    [ -d "$DIR/pg/data" ] || pg_as "$initdb" -D "$DIR/pg/data" -A trust -U postgres >/dev/null
    pg_as "$pg_ctl" -D "$DIR/pg/data" -w -l "$DIR/pg/log" \
        -o "-c listen_addresses='' -c unix_socket_directories=$DIR/pg -p 5432 -c max_connections=200" \
        start >/dev/null
    STORE="postgresql://postgres@/postgres?host=$DIR/pg"
}

start() {
    [ -x "$OCPPNET" ] || fail "$OCPPNET not found: run scripts/setup.sh (or set OCPPNET=)"
    "$OCPPNET" csms --help | grep -q -- '--bus' \
        || fail "this ocppnet has no 'csms --bus' (the scale-out core of issue 18)"
    local nats haproxy
    nats=$(find_bin nats-server) haproxy=$(find_bin haproxy)

    render nats.conf "$DIR/nats.conf" HOST=127.0.0.1 PORT="$NATS_PORT" \
        HTTP_PORT=$((NATS_PORT + 4000)) STORE_DIR="$DIR/jetstream"
    start_bg nats "$nats" -c "$DIR/nats.conf"
    wait_for "nats-server" curl -sf "http://127.0.0.1:$((NATS_PORT + 4000))/healthz"

    if [ -z "$STORE" ]; then start_postgres; fi
    echo "$STORE" >"$DIR/store.url"

    if [ -z "$CONFIG" ]; then
        CONFIG=$DIR/csms.toml
        [ -f "$CONFIG" ] || printf '[csms]\nid = "CSMS"\n' >"$CONFIG"
    fi
    # fe1 first, alone: it creates the store's tables (two processes migrating one empty
    # PostgreSQL database at once collide); the others then start together
    local servers="" i
    for i in $(seq "$FRONTENDS"); do
        start_bg "fe$i" "$OCPPNET" csms --config "$CONFIG" --store "$STORE" \
            --bus "nats://127.0.0.1:$NATS_PORT" --frontend-id "fe$i" \
            --port $((PORT + i)) --http-port $((HTTP_PORT + i))
        servers+="    server fe$i 127.0.0.1:$((PORT + i)) check port $((HTTP_PORT + i))"$'\n'
        [ "$i" = 1 ] && wait_for "front-end fe1" curl -sf "http://127.0.0.1:$((HTTP_PORT + 1))/api/v1/health"
    done
    for i in $(seq "$FRONTENDS"); do
        wait_for "front-end fe$i" curl -sf "http://127.0.0.1:$((HTTP_PORT + i))/api/v1/health"
    done

    render haproxy.cfg "$DIR/haproxy.cfg" BIND="127.0.0.1:$PORT" MAXCONN="$MAXCONN" \
        SERVERS="${servers%$'\n'}"
    "$haproxy" -c -q -f "$DIR/haproxy.cfg" || fail "$DIR/haproxy.cfg is not valid"
    start_bg haproxy "$haproxy" -db -f "$DIR/haproxy.cfg"
    wait_for "haproxy" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

    echo "ocppnet scale-out set-up in $DIR"
    echo "  stations and nodes: ws://127.0.0.1:$PORT/ocpp/<id>  (HAProxy -> fe1..fe$FRONTENDS)"
    for i in $(seq "$FRONTENDS"); do
        echo "  fe$i:                ws://127.0.0.1:$((PORT + i))/ocpp  http://127.0.0.1:$((HTTP_PORT + i))/"
    done
    echo "  bus:                nats://127.0.0.1:$NATS_PORT (JetStream in $DIR/jetstream)"
    echo "  store:              $STORE"
    echo "  stop:               scripts/cluster.sh stop --dir $DIR"
}

status() {
    local pidfile rc=0
    for pidfile in "$DIR"/*.pid; do
        [ -f "$pidfile" ] || continue
        if alive "$pidfile"; then
            echo "$(basename "$pidfile" .pid): running (pid $(cat "$pidfile"))"
        else
            echo "$(basename "$pidfile" .pid): not running"; rc=1
        fi
    done
    [ -f "$DIR/pg/data/postmaster.pid" ] && echo "postgres: running ($DIR/pg)"
    return $rc
}

stop() {
    local pidfile name pid
    for name in haproxy $(cd "$DIR" && ls fe*.pid 2>/dev/null | sed 's/\.pid$//') nats; do
        pidfile=$DIR/$name.pid
        alive "$pidfile" || { rm -f "$pidfile"; continue; }
        pid=$(cat "$pidfile")
        kill -TERM "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        rm -f "$pidfile"
        echo "stopped $name"
    done
    if [ -f "$DIR/pg/data/postmaster.pid" ]; then
        pg_as "$(find_bin pg_ctl "/usr/lib/postgresql/*/bin")" -D "$DIR/pg/data" -m fast stop >/dev/null
        echo "stopped postgres"
    fi
}

case "$command" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage ;;
esac
