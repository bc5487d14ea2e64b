#!/bin/sh
# local.sh: the local venus-c suite on its embedded defaults (sqlite, devnet) under ./run/.
#
#   ./deploy/local.sh up       install packages, build, start every daemon that exists
#   ./deploy/local.sh down     stop what `up` started
#   ./deploy/local.sh status   show what is running
#
# Daemons are started in the documented order auth -> gateway -> node -> messager -> miner as
# they land; until then `up` builds the tree and the common library's tests can be run.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
run="$top/run"
build="$top/build"
DAEMONS="" # filled in as daemons land, in start order

cmd=${1:-up}
case "$cmd" in
up)
    ./scripts/deps.sh
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
    mkdir -p "$run"
    if [ -z "$DAEMONS" ]; then
        echo "built venus-c in $build; no daemon has landed yet, so nothing was started."
        echo "run the tests with: ./scripts/test.sh"
    fi
    ;;
down)
    for d in $DAEMONS; do
        pidf="$run/$d.pid"
        [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null && rm -f "$pidf" && echo "stopped $d"
    done
    ;;
status)
    [ -z "$DAEMONS" ] && echo "no daemons yet"
    for d in $DAEMONS; do
        pidf="$run/$d.pid"
        if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then echo "$d running (pid $(cat "$pidf"))";
        else echo "$d stopped"; fi
    done
    ;;
*)
    echo "usage: $0 up|down|status" >&2
    exit 1
    ;;
esac
