#!/bin/sh
# local.sh: the local venus-c suite on its embedded defaults (sqlite, devnet) under ./run/.
#
#   ./deploy/local.sh up [--postgres]   install packages, build, start the suite
#   ./deploy/local.sh down              stop every process `up` started (and nothing else)
#   ./deploy/local.sh status            show what is running
#   ./deploy/local.sh logs [daemon]     tail of every log, or of one (auth, gateway, devnet,
#                                       wallet, messager, prover, miner, auth2, ..., pg)
#
# Daemons are started in the documented order auth -> gateway -> node -> messager -> miner
# (the node is venus-devnet in external-mining mode: its blocks come from venus-miner; a mock
# winning-PoSt prover stands in for the sealer). A second `up` reuses the state in the run
# directory and starts only what is not running.
#
# --postgres: a PostgreSQL server owned by this script (data in <run>/pg, Debian's postgresql
# package; as root the server runs as the "postgres" user) holds the databases auth, messager
# and miner, and two instances of venus-auth, venus-gateway, venus-messager and venus-miner run
# on it (the second ones are named auth2, gateway2, messager2, miner2). The messager and miner
# instances elect one leader each by their [HA] lease; clients are given every instance.
# A run directory holds one kind of suite: `down` and remove it to switch.
#
# Environment (for tests and power users):
#   VC_RUN_DIR=dir          state, logs and pid files (default ./run)
#   VC_BUILD_DIR=dir        build directory (default ./build-local)
#   VC_SKIP_BUILD=1         no cmake when VC_BUILD_DIR already holds the binaries
#   VC_SKIP_DEPS=1          do not install Debian packages (scripts/deps.sh)
#   VC_EPHEMERAL_PORTS=1    every daemon listens on 127.0.0.1:0 (addresses are read back from
#                           each <repo>/api file); the default ports otherwise
#   VC_BLOCK_TIME=4s        devnet block time, read when the chain is first created
#   VC_LOG_LINES=40         lines shown by `logs`
set -eu
here=$(pwd)
abspath() { case $1 in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }
cd "$(dirname "$0")/.."
top=$(pwd)
run=$(abspath "${VC_RUN_DIR:-$top/run}")
build=$(abspath "${VC_BUILD_DIR:-$top/build-local}")
# every name a pid file may have, in start order (down stops them in reverse)
ALL="pg auth auth2 gateway gateway2 devnet wallet messager messager2 prover miner miner2"

die() { echo "local.sh: $*" >&2; exit 1; }
bin_of() {
    case $1 in
    miner*) echo "$build/minerd/venus-miner" ;;
    prover) echo "$build/devnet/venus-devnet" ;;
    *) b=${1%2}; echo "$build/$b/venus-$b" ;;
    esac
}
# listen <default>: the address a daemon listens on
listen() { if [ "${VC_EPHEMERAL_PORTS:-0}" = 1 ]; then echo 127.0.0.1:0; else echo "$1"; fi; }
api_of() { cat "$run/$1/api"; }

# ours <name>: the pid in <run>/<name>.pid is alive and is a venus-c process (a stale pid file
# left by a reboot must not make us signal a stranger).
ours() {
    [ -f "$run/$1.pid" ] || return 1
    p=$(cat "$run/$1.pid")
    kill -0 "$p" 2>/dev/null || return 1
    [ -r "/proc/$p/cmdline" ] || return 0
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q 'venus-'
}

# wait_api <name>: waits until the daemon wrote <run>/<name>/api.
wait_api() {
    i=0
    while [ ! -s "$run/$1/api" ]; do
        kill -0 "$(cat "$run/$1.pid")" 2>/dev/null || die "$1 failed to start, see $run/$1.log"
        i=$((i + 1)); [ $i -lt 300 ] || die "$1 did not come up, see $run/$1.log"
        sleep 0.1
    done
    echo "$1 started (pid $(cat "$run/$1.pid")) on $(api_of "$1")"
}

# spawn <name> <argv...>: starts a daemon in the background, its output in <run>/<name>.log.
spawn() {
    n=$1; shift
    rm -f "$run/$n/api"
    nohup "$@" >>"$run/$n.log" 2>&1 </dev/null &
    echo $! >"$run/$n.pid"
}

# skip <name>: true (and says so) when <name> already runs
skip() { if ours "$1"; then echo "$1 already running (pid $(cat "$run/$1.pid"))"; return 0; fi; return 1; }

# ---------------------------------------------------------------- PostgreSQL (--postgres)
pg_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    done
    return 1
}
if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi

pg_running() { [ -f "$run/pg/data/postmaster.pid" ] && [ -n "${pgbin:-}" ] && as_pg "$pgbin/pg_ctl" -D "$run/pg/data" status >/dev/null 2>&1; }
dsn() { echo "postgresql://postgres@127.0.0.1:$(cat "$run/pg/port")/$1"; }

# start_pg: initdb once, start the server on 127.0.0.1 (a random port, kept in <run>/pg/port),
# create the databases auth, messager and miner.
start_pg() {
    pgbin=$(pg_bindir) || die "PostgreSQL server binaries not found (apt-get install postgresql)"
    pgd="$run/pg/data"
    if pg_running; then
        echo "pg already running (pid $(sed -n 1p "$pgd/postmaster.pid")) on port $(cat "$run/pg/port")"
    else
        mkdir -p "$pgd"
        if [ "$(id -u)" = 0 ]; then
            runuser -u postgres -- test -x "$run" || die "the postgres user cannot reach $run: choose a VC_RUN_DIR whose parents are world-searchable"
            chown postgres:postgres "$run/pg" "$pgd"
        fi
        chmod 700 "$pgd"
        if [ ! -f "$pgd/PG_VERSION" ]; then
            as_pg "$pgbin/initdb" -D "$pgd" -U postgres --auth=trust -E UTF8 --no-locale >"$run/pg/initdb.log" 2>&1 ||
                die "initdb failed, see $run/pg/initdb.log"
        fi
        tries=0
        while :; do
            tries=$((tries + 1))
            [ -s "$run/pg/port" ] || echo $(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ) + 20000 )) >"$run/pg/port"
            port=$(cat "$run/pg/port")
            as_pg "$pgbin/pg_ctl" -D "$pgd" -l "$run/pg/server.log" -w -t 60 \
                -o "-c listen_addresses=127.0.0.1 -p $port -k $pgd" start >/dev/null 2>&1 && break
            [ "$tries" -lt 10 ] || die "postgres did not start, see $run/pg/server.log"
            rm -f "$run/pg/port" # taken: another port
        done
        echo "$(sed -n 1p "$pgd/postmaster.pid")" >"$run/pg.pid"
        echo "pg started (pid $(cat "$run/pg.pid")) on 127.0.0.1:$port"
    fi
    port=$(cat "$run/pg/port")
    for db in auth messager miner; do
        "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
            "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
    done
}

stop_pg() {
    pgbin=$(pg_bindir) || return 0
    if pg_running; then
        as_pg "$pgbin/pg_ctl" -D "$run/pg/data" -m fast -w -t 60 stop >/dev/null && echo "stopped pg"
    fi
    # pg_ctl returns when postmaster.pid is gone, a moment before the postmaster exits
    i=0
    while [ -s "$run/pg.pid" ] && kill -0 "$(cat "$run/pg.pid")" 2>/dev/null && [ $i -lt 100 ]; do
        i=$((i + 1)); sleep 0.1
    done
    rm -f "$run/pg.pid"
}

# ---------------------------------------------------------------- the daemons
# pgflags <daemon>: database flags in --postgres mode
db_flags() { [ "$mode" = postgres ] && echo "--db-type postgres --pg-dsn $(dsn "$1")" || true; }
auth_urls() { # every venus-auth, comma-separated
    u="http://$(api_of auth)"
    [ "$mode" = postgres ] && u="$u,http://$(api_of auth2)"
    echo "$u"
}
# repeat <flag> <names...>: "<flag> <api of name>" for each name that exists in this mode
gateways() { for g in gateway gateway2; do [ -s "$run/$g/api" ] && printf ' %s %s' "$1" "$(api_of $g)"; done; true; }

# start_auth <name> <port>: venus-auth with its repo in <run>/<name> (sqlite, or the shared
# PostgreSQL database "auth").
start_auth() {
    skip "$1" && return 0
    mkdir -p "$run/$1"
    # shellcheck disable=SC2046
    spawn "$1" "$(bin_of auth)" --repo "$run/$1" --listen "$(listen "127.0.0.1:$2")" run $(db_flags auth)
    wait_api "$1"
}

# start_gateway <name> <port>: venus-gateway, verifying tokens with every venus-auth.
start_gateway() {
    skip "$1" && return 0
    mkdir -p "$run/$1"
    [ -f "$run/$1/config.toml" ] || printf '[API]\n  ListenAddress = "%s"\n' "$(listen "127.0.0.1:$2")" >"$run/$1/config.toml"
    spawn "$1" "$(bin_of gateway)" --repo "$run/$1" run --auth-url "$(auth_urls)" --auth-token "$(cat "$run/auth/token")"
    wait_api "$1"
}

# start_devnet: a local chain (VC_BLOCK_TIME blocks, mined by venus-miner) with one funded key,
# run/keys/owner.key, that also owns and works miner t01000 (idempotent: the chain persists in
# run/devnet). It accepts venus-auth tokens.
start_devnet() {
    skip devnet && return 0
    dn="$(bin_of devnet)"
    if [ ! -f "$run/devnet/devnet.db" ]; then
        mkdir -p "$run/keys"
        owner=$("$dn" wallet new --out "$run/keys/owner.key" | sed -n 1p)
        cat >"$run/genesis.toml" <<TOML
NetworkName = "devnet"
BlockTime = "${VC_BLOCK_TIME:-4s}"
PropagationDelay = "1s"
[[Accounts]]
KeyFile = "$run/keys/owner.key"
Balance = "1000000000000000000000000"
[[Miners]]
ID = 1000
Owner = "$owner"
Worker = "$owner"
Power = "10995116277760"
Sectors = 2
SectorSize = 2048
TOML
        "$dn" --repo "$run/devnet" init --genesis "$run/genesis.toml" >/dev/null
        echo "$owner" >"$run/keys/owner.addr"
    fi
    spawn devnet "$dn" --repo "$run/devnet" run --listen "$(listen 127.0.0.1:3453)" --mine external \
        --auth-url "http://$(api_of auth)" --auth-token "$(cat "$run/auth/token")"
    wait_api devnet
}

# start_wallet: venus-wallet holding the devnet owner key, registered with every gateway as the
# venus-auth user "wallet" (made once, with its token kept in run/wallet.token).
start_wallet() {
    skip wallet && return 0
    va="$(bin_of auth) --repo $run/auth"
    if [ ! -s "$run/wallet.token" ]; then
        $va user get wallet >/dev/null 2>&1 || $va user add wallet >/dev/null
        $va token gen --perm sign wallet | sed -n 's/^generate token success: //p' >"$run/wallet.token"
    fi
    mkdir -p "$run/wallet"
    [ -s "$run/wallet.password" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/wallet.password")
    # shellcheck disable=SC2046
    spawn wallet "$(bin_of wallet)" --repo "$run/wallet" run --listen "$(listen 127.0.0.1:5678)" \
        --password-file "$run/wallet.password" $(gateways --gateway-api) --gateway-token "$(cat "$run/wallet.token")" \
        --support-accounts wallet
    wait_api wallet
    if ! "$(bin_of wallet)" --repo "$run/wallet" list 2>/dev/null | grep -q .; then
        "$(bin_of wallet)" --repo "$run/wallet" import "$run/keys/owner.key" >/dev/null
    fi
}

# start_messager <name> <port>: venus-messager using devnet as its node, every gateway for
# signing and every venus-auth for tokens and signer ownership.
start_messager() {
    skip "$1" && return 0
    mkdir -p "$run/$1"
    # shellcheck disable=SC2046
    spawn "$1" "$(bin_of messager)" --repo "$run/$1" run --listen "$(listen "127.0.0.1:$2")" \
        --node-url "$(api_of devnet)" --node-token "$(cat "$run/devnet/token")" \
        $(gateways --gateway-url) --gateway-token "$(cat "$run/auth/token")" \
        --auth-url "$(auth_urls)" --auth-token "$(cat "$run/auth/token")" $(db_flags messager)
    wait_api "$1"
}

# start_prover: the devnet's mock winning-PoSt prover for t01000, connected to every gateway as
# the venus-auth user "wallet" (which the miner is bound to).
start_prover() {
    skip prover && return 0
    va="$(bin_of auth) --repo $run/auth"
    $va user miner exist --user wallet t01000 2>/dev/null | grep -q true || $va user miner add wallet t01000 >/dev/null
    # shellcheck disable=SC2046
    nohup "$(bin_of prover)" prover $(gateways --gateway) --token "$(cat "$run/wallet.token")" \
        --miner t01000 >>"$run/prover.log" 2>&1 </dev/null &
    echo $! >"$run/prover.pid"
    echo "prover started (pid $(cat "$run/prover.pid")) for t01000"
}

# start_miner <name> <port>: venus-miner mining t01000 (bound to user "wallet" in venus-auth),
# slash filter and lease on sqlite in its repo or on the shared PostgreSQL database "miner".
start_miner() {
    skip "$1" && return 0
    vm="$(bin_of miner)"
    if [ ! -f "$run/$1/config.toml" ]; then
        sf="--slash-filter local"
        [ "$mode" = postgres ] && sf="--slash-filter postgres --pg-dsn $(dsn miner)"
        auths=""
        for a in auth auth2; do [ -s "$run/$a/api" ] && auths="$auths --auth-api http://$(api_of $a)"; done
        # shellcheck disable=SC2046,SC2086
        "$vm" --repo "$run/$1" init --api "$(api_of devnet)" --token "$(cat "$run/auth/token")" \
            $auths $(gateways --gateway-api) $sf --listen "$(listen "127.0.0.1:$2")" >/dev/null
    fi
    spawn "$1" "$vm" --repo "$run/$1" run --listen "$(listen "127.0.0.1:$2")" --nosync
    wait_api "$1"
}

# stop <name>: SIGTERM to a process we started, SIGKILL after 20 s
stop() {
    if ours "$1"; then
        p=$(cat "$run/$1.pid")
        kill "$p" 2>/dev/null || true
        i=0
        while kill -0 "$p" 2>/dev/null; do
            i=$((i + 1))
            if [ $i -ge 200 ]; then kill -9 "$p" 2>/dev/null || true; break; fi
            sleep 0.1
        done
        echo "stopped $1"
    fi
    rm -f "$run/$1.pid"
}

need_bins() {
    for d in auth gateway devnet wallet messager miner; do [ -x "$(bin_of $d)" ] || return 1; done
}

cmd=${1:-up}
[ $# -gt 0 ] && shift
case "$cmd" in
up)
    mode=sqlite
    for a in "$@"; do
        case $a in
        --postgres) mode=postgres ;;
        *) die "unknown flag $a (usage: $0 up [--postgres])" ;;
        esac
    done
    mkdir -p "$run"
    if [ -s "$run/mode" ] && [ "$(cat "$run/mode")" != "$mode" ]; then
        die "$run holds a $(cat "$run/mode") suite: run '$0 down' and remove $run to start a $mode one"
    fi
    [ "${VC_SKIP_DEPS:-0}" = 1 ] || ./scripts/deps.sh
    if [ "${VC_SKIP_BUILD:-0}" = 1 ] && need_bins; then
        echo "using the binaries in $build"
    else
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
    fi
    echo "$mode" >"$run/mode"
    if [ "$mode" = postgres ]; then
        start_pg
        start_auth auth 8989
        start_auth auth2 8990
        start_gateway gateway 45132
        start_gateway gateway2 45133
    else
        start_auth auth 8989
        start_gateway gateway 45132
    fi
    start_devnet
    start_wallet
    start_messager messager 39812
    [ "$mode" = sqlite ] || start_messager messager2 39813
    start_prover
    start_miner miner 12308
    [ "$mode" = sqlite ] || start_miner miner2 12309
    cat <<TXT

venus-c ($mode) is running under $run (logs: $0 logs [daemon]). Try:
  $(bin_of auth) --repo $run/auth user add alice
  $(bin_of auth) --repo $run/auth token gen --perm sign alice
  $(bin_of auth) --repo $run/auth user list
  $(bin_of devnet) --repo $run/devnet chain head
  $(bin_of wallet) --repo $run/wallet list
  $(bin_of gateway) --repo $run/gateway wallet list
  $(bin_of messager) --repo $run/messager send --from \$(cat $run/keys/owner.addr) --method 2 --params-hex "" \\
      --gas-limit 1000000 --gas-feecap 100000 --gas-premium 1000 t01000 0.001
  $(bin_of messager) --repo $run/messager msg list
  $(bin_of messager) --repo $run/messager address list
  $(bin_of miner) --repo $run/miner address state
  $(bin_of miner) --repo $run/miner winner count --epoch-start 1 --epoch-end 10
TXT
    if [ "$mode" = postgres ]; then
        cat <<TXT
PostgreSQL: $(dsn auth) (also .../messager, .../miner); data in $run/pg
Two instances each of auth, gateway (active/active), messager and miner (one leader by lease).
HA state (Role leader/standby, the lease, Peers):
  $(bin_of messager) --repo $run/messager ha status
  $(bin_of messager) --repo $run/messager2 ha status
  $(bin_of miner) --repo $run/miner ha status
  $(bin_of miner) --repo $run/miner2 ha status
  $(bin_of auth) --repo $run/auth ha status
Steer: ha pause (a leader steps down) | ha resume | ha promote [--force] on a standby.
TXT
    fi
    echo "Stop with: $0 down"
    ;;
down)
    for d in $(echo "$ALL" | tr ' ' '\n' | sed '1!G;h;$!d'); do # reverse order
        if [ "$d" = pg ]; then stop_pg; else stop "$d"; fi
    done
    ;;
status)
    [ -s "$run/mode" ] && echo "suite: $(cat "$run/mode") in $run"
    pgbin=$(pg_bindir 2>/dev/null) || pgbin=
    for d in $ALL; do
        if [ "$d" = pg ]; then
            [ -d "$run/pg" ] || continue
            if pg_running; then echo "pg running (pid $(sed -n 1p "$run/pg/data/postmaster.pid"))"; else echo "pg stopped"; fi
            continue
        fi
        [ -d "$run/$d" ] || [ -f "$run/$d.pid" ] || [ -f "$run/$d.log" ] || continue
        if ours "$d"; then echo "$d running (pid $(cat "$run/$d.pid")) on $(cat "$run/$d/api" 2>/dev/null || echo -)";
        else echo "$d stopped"; fi
    done
    ;;
logs)
    n=${VC_LOG_LINES:-40}
    if [ $# -gt 0 ]; then
        f="$run/$1.log"; [ "$1" = pg ] && f="$run/pg/server.log"
        [ -f "$f" ] || die "no log for '$1' in $run"
        tail -n "$n" "$f"
    else
        for f in "$run"/*.log "$run/pg/server.log"; do
            [ -f "$f" ] || continue
            echo "==> $f <=="
            tail -n "$n" "$f"
        done
    fi
    ;;
-h | --help | help)
    sed -n '2,/^set -eu/p' "$top/deploy/local.sh" | sed '$d' | sed 's/^# \{0,1\}//'
    ;;
*)
    echo "usage: $0 up [--postgres]|down|status|logs [daemon]" >&2
    exit 1
    ;;
esac
