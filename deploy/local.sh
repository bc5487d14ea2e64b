#!/bin/sh
# local.sh: the local venus-c suite on its embedded defaults (sqlite, devnet) under ./run/.
#
#   ./deploy/local.sh up       install packages, build, start every daemon that exists
#   ./deploy/local.sh down     stop what `up` started
#   ./deploy/local.sh status   show what is running
#
# Daemons are started in the documented order auth -> gateway -> node -> messager -> miner as
# they land (today: venus-auth). A second `up` reuses the state in ./run/.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
run="$top/run"
build="$top/build-local"
DAEMONS="auth" # in start order; grows as daemons land

bin_of() { echo "$build/$1/venus-$1"; }

# start_auth: venus-auth on sqlite with its repo in run/auth (idempotent).
start_auth() {
    pidf="$run/auth.pid"
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
        echo "auth already running (pid $(cat "$pidf"))"
        return 0
    fi
    mkdir -p "$run/auth"
    rm -f "$run/auth/api"
    nohup "$(bin_of auth)" --repo "$run/auth" run >"$run/auth.log" 2>&1 &
    echo $! >"$pidf"
    i=0
    while [ ! -s "$run/auth/api" ]; do
        kill -0 "$(cat "$pidf")" 2>/dev/null || { echo "venus-auth failed to start, see $run/auth.log" >&2; exit 1; }
        i=$((i + 1)); [ $i -lt 100 ] || { echo "venus-auth did not come up, see $run/auth.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "auth started (pid $(cat "$pidf")) on $(cat "$run/auth/api")"
}

cmd=${1:-up}
case "$cmd" in
up)
    ./scripts/deps.sh
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
    mkdir -p "$run"
    start_auth
    cat <<TXT

venus-c is running under $run (logs: $run/*.log). Try:
  $(bin_of auth) --repo $run/auth user add alice
  $(bin_of auth) --repo $run/auth token gen --perm sign alice
  $(bin_of auth) --repo $run/auth user list
Stop with: ./deploy/local.sh down
TXT
    ;;
down)
    for d in $DAEMONS; do
        pidf="$run/$d.pid"
        if [ -f "$pidf" ]; then
            kill "$(cat "$pidf")" 2>/dev/null && echo "stopped $d"
            rm -f "$pidf"
        fi
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
