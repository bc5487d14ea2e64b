#!/bin/sh
# local.sh: the local venus-c suite on its embedded defaults (sqlite, devnet) under ./run/.
#
#   ./deploy/local.sh up       install packages, build, start every daemon that exists
#   ./deploy/local.sh down     stop what `up` started
#   ./deploy/local.sh status   show what is running
#
# Daemons are started in the documented order auth -> gateway -> node -> messager -> miner
# (the node is venus-devnet in external-mining mode: its blocks come from venus-miner; a mock
# winning-PoSt prover stands in for the sealer). A second `up` reuses the state in ./run/.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
run="$top/run"
build="$top/build-local"
DAEMONS="auth gateway devnet wallet messager prover miner" # the documented order

bin_of() { case $1 in miner) echo "$build/minerd/venus-miner" ;; *) echo "$build/$1/venus-$1" ;; esac; }

# wait_api <name> <repo>: waits until the daemon wrote <repo>/api.
wait_api() {
    i=0
    while [ ! -s "$2/api" ]; do
        kill -0 "$(cat "$run/$1.pid")" 2>/dev/null || { echo "venus-$1 failed to start, see $run/$1.log" >&2; exit 1; }
        i=$((i + 1)); [ $i -lt 150 ] || { echo "venus-$1 did not come up, see $run/$1.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$1 started (pid $(cat "$run/$1.pid")) on $(cat "$2/api")"
}

running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

# start_devnet: a local chain (4 s blocks, mined by venus-miner) with one funded key,
# run/keys/owner.key, that also owns and works miner t01000 (idempotent: the chain persists in
# run/devnet). It accepts venus-auth tokens.
start_devnet() {
    if running devnet; then echo "devnet already running (pid $(cat "$run/devnet.pid"))"; return 0; fi
    dn="$(bin_of devnet)"
    if [ ! -f "$run/devnet/devnet.db" ]; then
        mkdir -p "$run/keys"
        owner=$("$dn" wallet new --out "$run/keys/owner.key" | sed -n 1p)
        cat >"$run/genesis.toml" <<TOML
NetworkName = "devnet"
BlockTime = "4s"
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
    fi
    rm -f "$run/devnet/api"
    nohup "$dn" --repo "$run/devnet" run --mine external --auth-url "http://$(cat "$run/auth/api")" \
        --auth-token "$(cat "$run/auth/token")" >"$run/devnet.log" 2>&1 &
    echo $! >"$run/devnet.pid"
    wait_api devnet "$run/devnet"
}

# start_auth: venus-auth on sqlite with its repo in run/auth (idempotent).
start_auth() {
    if running auth; then echo "auth already running (pid $(cat "$run/auth.pid"))"; return 0; fi
    mkdir -p "$run/auth"
    rm -f "$run/auth/api"
    nohup "$(bin_of auth)" --repo "$run/auth" run >"$run/auth.log" 2>&1 &
    echo $! >"$run/auth.pid"
    wait_api auth "$run/auth"
}

# start_gateway: venus-gateway, verifying tokens with venus-auth (its local admin token).
start_gateway() {
    if running gateway; then echo "gateway already running (pid $(cat "$run/gateway.pid"))"; return 0; fi
    mkdir -p "$run/gateway"
    rm -f "$run/gateway/api"
    nohup "$(bin_of gateway)" --repo "$run/gateway" run --auth-url "http://$(cat "$run/auth/api")" \
        --auth-token "$(cat "$run/auth/token")" >"$run/gateway.log" 2>&1 &
    echo $! >"$run/gateway.pid"
    wait_api gateway "$run/gateway"
}

# start_wallet: venus-wallet holding the devnet owner key, registered with the gateway as the
# venus-auth user "wallet" (made once, with its token kept in run/wallet.token).
start_wallet() {
    if running wallet; then echo "wallet already running (pid $(cat "$run/wallet.pid"))"; return 0; fi
    va="$(bin_of auth) --repo $run/auth"
    if [ ! -s "$run/wallet.token" ]; then
        $va user get wallet >/dev/null 2>&1 || $va user add wallet >/dev/null
        $va token gen --perm sign wallet | sed -n 's/^generate token success: //p' >"$run/wallet.token"
    fi
    mkdir -p "$run/wallet"
    [ -s "$run/wallet.password" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/wallet.password")
    rm -f "$run/wallet/api"
    nohup "$(bin_of wallet)" --repo "$run/wallet" run --password-file "$run/wallet.password" \
        --gateway-api "$(cat "$run/gateway/api")" --gateway-token "$(cat "$run/wallet.token")" \
        --support-accounts wallet >"$run/wallet.log" 2>&1 &
    echo $! >"$run/wallet.pid"
    wait_api wallet "$run/wallet"
    if ! "$(bin_of wallet)" --repo "$run/wallet" list 2>/dev/null | grep -q .; then
        "$(bin_of wallet)" --repo "$run/wallet" import "$run/keys/owner.key" >/dev/null
    fi
}

# start_messager: venus-messager on sqlite, using devnet as its node, the gateway for signing
# and venus-auth for tokens and signer ownership.
start_messager() {
    if running messager; then echo "messager already running (pid $(cat "$run/messager.pid"))"; return 0; fi
    mkdir -p "$run/messager"
    rm -f "$run/messager/api"
    nohup "$(bin_of messager)" --repo "$run/messager" run --node-url "$(cat "$run/devnet/api")" \
        --node-token "$(cat "$run/devnet/token")" --gateway-url "$(cat "$run/gateway/api")" \
        --gateway-token "$(cat "$run/auth/token")" --auth-url "http://$(cat "$run/auth/api")" \
        --auth-token "$(cat "$run/auth/token")" >"$run/messager.log" 2>&1 &
    echo $! >"$run/messager.pid"
    wait_api messager "$run/messager"
}

# start_prover: the devnet's mock winning-PoSt prover for t01000, connected to the gateway as
# the venus-auth user "wallet" (which the miner is bound to).
start_prover() {
    if running prover; then echo "prover already running (pid $(cat "$run/prover.pid"))"; return 0; fi
    va="$(bin_of auth) --repo $run/auth"
    $va user miner exist --user wallet t01000 2>/dev/null | grep -q true || $va user miner add wallet t01000 >/dev/null
    nohup "$(bin_of devnet)" prover --gateway "$(cat "$run/gateway/api")" --token "$(cat "$run/wallet.token")" \
        --miner t01000 >"$run/prover.log" 2>&1 &
    echo $! >"$run/prover.pid"
    echo "prover started (pid $(cat "$run/prover.pid")) for t01000"
}

# start_miner: venus-miner mining t01000 (bound to user "wallet" in venus-auth), slash filter
# on sqlite in run/miner.
start_miner() {
    if running miner; then echo "miner already running (pid $(cat "$run/miner.pid"))"; return 0; fi
    vm="$(bin_of miner)"
    if [ ! -f "$run/miner/config.toml" ]; then
        "$vm" --repo "$run/miner" init --api "$(cat "$run/devnet/api")" --token "$(cat "$run/auth/token")" \
            --auth-api "http://$(cat "$run/auth/api")" --gateway-api "$(cat "$run/gateway/api")" \
            --slash-filter local >/dev/null
    fi
    rm -f "$run/miner/api"
    nohup "$vm" --repo "$run/miner" run --nosync >"$run/miner.log" 2>&1 &
    echo $! >"$run/miner.pid"
    wait_api miner "$run/miner"
}

cmd=${1:-up}
case "$cmd" in
up)
    ./scripts/deps.sh
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
    mkdir -p "$run"
    start_auth
    start_gateway
    start_devnet
    start_wallet
    start_messager
    start_prover
    start_miner
    cat <<TXT

venus-c is running under $run (logs: $run/*.log). Try:
  $(bin_of auth) --repo $run/auth user add alice
  $(bin_of auth) --repo $run/auth token gen --perm sign alice
  $(bin_of auth) --repo $run/auth user list
  $(bin_of devnet) --repo $run/devnet chain head
  $(bin_of devnet) --repo $run/devnet state actor t0100
  $(bin_of wallet) --repo $run/wallet list
  $(bin_of gateway) --repo $run/gateway wallet list
  $(bin_of messager) --repo $run/messager msg list
  $(bin_of messager) --repo $run/messager address list
  $(bin_of miner) --repo $run/miner address state
  $(bin_of miner) --repo $run/miner winner count --epoch-start 1 --epoch-end 10
Stop with: ./deploy/local.sh down
TXT
    ;;
down)
    for d in $(echo "$DAEMONS" | tr ' ' '\n' | sed '1!G;h;$!d'); do # reverse order
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
