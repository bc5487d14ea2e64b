#!/bin/sh
# devnet-cli-e2e.sh <venus-devnet binary>: every venus-devnet CLI command against a real node:
# wallet new, init, run, chain head, chain get-block, send, state actor, mpool pending,
# admin revert, and the clear errors of bad input.
set -u
BIN=${1:?usage: devnet-cli-e2e.sh <path of venus-devnet>}
D=$(mktemp -d "${TMPDIR:-/tmp}/devnet-e2e.XXXXXX") || exit 1
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$D/run.log" ] && tail -n 20 "$D/run.log" >&2
    exit 1
}
dn() { "$BIN" --repo "$D/repo" "$@"; }

cd "$D" || exit 1
A=$("$BIN" wallet new --out a.key | sed -n 1p) || fail "wallet new"
B=$("$BIN" wallet new --out b.key | sed -n 1p) || fail "wallet new"
case $A in t1*) ;; *) fail "wallet new printed '$A', want a t1 address" ;; esac
[ "$(stat -c %a a.key)" = 600 ] || fail "key file mode is not 0600"
cat >genesis.toml <<TOML
NetworkName = "devnet"
BlockTime = "300ms"
[[Accounts]]
KeyFile = "a.key"
Balance = "1000000000000000000000"
[[Miners]]
ID = 1000
Owner = "$A"
Worker = "$A"
Power = "10995116277760"
Sectors = 2
SectorSize = 2048
TOML
dn init --genesis genesis.toml >/dev/null || fail "init"
if dn init --genesis genesis.toml 2>err; then fail "a second init succeeded"; fi
grep -q "already holds a chain" err || fail "second init: $(cat err)"
if "$BIN" --repo "$D/other" init --genesis missing.toml 2>err; then fail "init with a missing genesis succeeded"; fi

# not through dn(): a backgrounded function is a subshell, and killing it would leave the daemon
"$BIN" --repo "$D/repo" run --listen 127.0.0.1:0 >run.log 2>&1 &
PID=$!
i=0
while [ ! -s repo/api ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "no repo/api"
    sleep 0.1
done
sleep 1
dn chain head >head.json || fail "chain head"
grep -q '"Height"' head.json || fail "chain head: no Height"
CID=$(sed -n 's/.*"\/": "\(bafy[a-z0-9]*\)".*/\1/p' head.json | sed -n 1p)
dn chain get-block "$CID" | grep -q '"Miner": "t01000"' || fail "chain get-block $CID"
# /metrics: the head height and the clock's epoch (one ahead while blocks keep coming)
curl -fsS "http://$(cat repo/api)/metrics" >metrics.txt || fail "GET /metrics"
H=$(sed -n 's/^venus_devnet_chain_height \([0-9]*\)$/\1/p' metrics.txt)
E=$(sed -n 's/^venus_devnet_chain_epoch \([0-9]*\)$/\1/p' metrics.txt)
[ -n "$H" ] && [ -n "$E" ] && [ "$H" -ge 1 ] && [ "$E" -gt "$H" ] || fail "/metrics: chain_height '$H' chain_epoch '$E'"
MSG=$(dn send --from "$A" --to "$B" --value 1.5 --key-file a.key) || fail "send"
case $MSG in bafy*) ;; *) fail "send printed '$MSG'" ;; esac
i=0
until dn state actor "$B" 2>/dev/null | grep -q '"Balance": "1500000000000000000"'; do
    i=$((i + 1)); [ $i -lt 50 ] || fail "the transfer was not executed"
    sleep 0.2
done
dn mpool pending | grep -q '^\[' || fail "mpool pending"
if dn send --from "$A" --to "$B" --value 1.5 --key-file b.key 2>err; then fail "send with the wrong key"; fi
grep -q "does not belong" err || fail "wrong key: $(cat err)"
if dn send --from "$A" --to "$B" --value lots --key-file a.key 2>err; then fail "bad value accepted"; fi
if dn state actor t0999 2>err; then fail "unknown actor"; fi
grep -q "actor not found" err || fail "unknown actor: $(cat err)"
dn admin revert 1 | grep -q '"Height"' || fail "admin revert"
if dn chain head --token bad 2>err; then fail "a bad token was accepted"; fi
grep -q "unauthorized" err || fail "bad token: $(cat err)"
echo "PASS: venus-devnet CLI end-to-end"
