#!/bin/sh
# auth-cli-e2e.sh <venus-auth binary>
#
# End-to-end test of the venus-auth CLI against a real daemon: starts `venus-auth run` on
# 127.0.0.1:0 in a fresh repo, waits for <repo>/api and <repo>/token, runs every client command
# with realistic values and checks each output line (spec/auth-gateway.md A7), then checks
# with curl that a generated token passes POST /verify and is refused after `token rm`.
# Then a second instance on the same database: `ha status` on either lists both (presence,
# vc/ha-peers.h), a stopped one leaves the list at once, and GET /ha/status is admin only.
# Needs: curl. Exits 0 on success, 1 with a "FAIL: ..." line otherwise.
set -u

BIN=${1:?usage: auth-cli-e2e.sh <path of venus-auth>}
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl is required" >&2; exit 1; }
R=$(mktemp -d "${TMPDIR:-/tmp}/venus-auth-e2e.XXXXXX") || exit 1
PID=
PID2=
TAB=$(printf '\t')
F1=f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q

cleanup() {
    if [ -n "$PID2" ]; then
        kill "$PID2" 2>/dev/null
        wait "$PID2" 2>/dev/null
    fi
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    if [ -n "${KEEP:-}" ]; then echo "kept $R" >&2; else rm -rf "$R"; fi
    if [ -n "${DB:-}" ]; then psql -q "$SERVER_DSN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$R/daemon.log" ]; then
        echo "--- daemon log (last 30 lines):" >&2
        tail -n 30 "$R/daemon.log" >&2
    fi
    exit 1
}

# va <args...>: the CLI on our repo.
va() { "$BIN" --repo "$R" "$@"; }

# ok <args...>: must exit 0; output in $OUT.
ok() {
    OUT=$(va "$@" 2>"$R/err") || fail "venus-auth $* exited $?: $(cat "$R/err")"
    LAST="$*"
}

# bad <args...>: must exit non-zero with an "ERROR: ..." or usage line; stderr in $ERR.
bad() {
    if OUT=$(va "$@" 2>"$R/err"); then fail "venus-auth $* should have failed, printed: $OUT"; fi
    ERR=$(cat "$R/err")
    [ -n "$ERR" ] || fail "venus-auth $* failed without a message"
    LAST="$*"
}

# line <exact line>: $OUT has that line.
line() {
    printf '%s\n' "$OUT" | grep -qxF -- "$1" || fail "venus-auth $LAST: no line '$1' in:
$OUT"
}

# match <ERE>: $OUT has a line matching it (anchor it yourself).
match() {
    printf '%s\n' "$OUT" | grep -qE -- "$1" || fail "venus-auth $LAST: no line matching /$1/ in:
$OUT"
}

# err_has <text>: $ERR contains text.
err_has() {
    case $ERR in *"$1"*) ;; *) fail "venus-auth $LAST: stderr lacks '$1': $ERR" ;; esac
}

# ---- start the daemon ----
# With VC_PG_DSN_FILE set (the ctest `pg` fixture), the daemon runs on a fresh PostgreSQL
# database instead of sqlite.
set --
if [ -n "${VC_PG_DSN_FILE:-}" ]; then
    command -v psql >/dev/null 2>&1 || fail "psql is required for the PostgreSQL run"
    SERVER_DSN=$(cat "$VC_PG_DSN_FILE") || fail "cannot read $VC_PG_DSN_FILE"
    DB="vct_e2e_$$"
    psql -q "$SERVER_DSN" -c "CREATE DATABASE $DB" >/dev/null || fail "cannot create database $DB"
    PG_DSN=$(printf '%s\n' "$SERVER_DSN" | sed -E "s#/[^/?]*([?].*)?\$#/$DB\1#")
    set -- --db-type postgres --pg-dsn "$PG_DSN"
fi
"$BIN" --repo "$R" run --listen 127.0.0.1:0 "$@" >"$R/daemon.log" 2>&1 &
PID=$!
i=0
while [ ! -s "$R/api" ] || [ ! -s "$R/token" ]; do
    kill -0 "$PID" 2>/dev/null || { PID=; fail "venus-auth run exited early"; }
    i=$((i + 1))
    [ "$i" -le 150 ] || fail "no $R/api and $R/token after 15s"
    sleep 0.1
done
API=$(cat "$R/api")
ADMIN=$(cat "$R/token")
case $API in
http://* | https://*) URL=$API ;;
/ip4/* | /ip6/* | /dns*) URL=$(printf '%s\n' "$API" | sed -E 's#^/(ip4|dns|dns4|dns6)/([^/]+)/tcp/([0-9]+).*#http://\2:\3#; s#^/ip6/([^/]+)/tcp/([0-9]+).*#http://[\1]:\2#') ;;
*) URL="http://$API" ;;
esac

# verify <jwt>: prints the HTTP status of POST /verify; the body lands in $R/verify.out.
verify() {
    curl -sS -o "$R/verify.out" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
        --data "{\"Token\":\"$1\"}" "$URL/verify" || echo "curl-failed"
}

# ---- users ----
ok user add --comment "e2e user" alice
match '^Add user success: [0-9a-fA-F-]{36}, next can add miner for this user$'
bad user add alice
err_has "ERROR: "
bad user add
ok user get alice
line "name: alice"
line "state enabled ${TAB}// 2: disable, 1: enable"
line "comment: e2e user"
match '^createTime: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+$'
match '^updateTime: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+$'
ok user update --name alice --comment changed --state 2
line "update user success"
ok user get alice
line "state disabled ${TAB}// 2: disable, 1: enable"
line "comment: changed"
ok user active alice
line "active user success"
ok user get alice
line "state enabled ${TAB}// 2: disable, 1: enable"
bad user update --comment x
err_has 'Required flag "name" not set'
ok user add --state 2 bob
match '^Add user success: '
ok user list
line "name: alice"
line "name: bob"
line "state: disabled"
match '^number: [0-9]+$'
ok user list --state 2
line "name: bob"
printf '%s\n' "$OUT" | grep -qxF "name: alice" && fail "user list --state 2 shows alice: $OUT"
bad user get nobody-here
err_has "ERROR: "

# ---- tokens ----
ok token gen --perm write alice
match '^generate token success: [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
TK=$(printf '%s\n' "$OUT" | sed -n 's/^generate token success: //p')
bad token gen alice
err_has 'Required flag "perm" not set'
bad token gen --perm root alice
# shellcheck disable=SC2016
err_has '`perm` flag invalid'
bad token gen --perm read nobody-here
err_has "ERROR: "
ok token list
match '^num +name +perm +createTime +token$'
match "^[0-9]+ +alice +write +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} +$TK\$"
match '^[0-9]+ +defaultLocalToken +admin +'
ok token list --skip 0 --limit 1
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 2 ] || fail "token list --limit 1 printed: $OUT"
ok token get --name alice
line "name:        alice"
line "perm:        write"
line "token:       $TK"
match '^create time: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? [+-][0-9]{4} [^ ]+$'
ok token get --token "$TK"
line "name:        alice"
line "token:       $TK"

# ---- /verify with the generated token ----
code=$(verify "$TK")
[ "$code" = 200 ] || fail "POST /verify of a fresh token: HTTP $code $(cat "$R/verify.out")"
grep -qE '"name": *"alice"' "$R/verify.out" || fail "POST /verify answer lacks the name: $(cat "$R/verify.out")"
grep -qE '"perm": *"write"' "$R/verify.out" || fail "POST /verify answer lacks the perm: $(cat "$R/verify.out")"

ok token rm "$TK"
line "remove token success: $TK"
code=$(verify "$TK")
case $code in 401 | 400) ;; *) fail "POST /verify of a removed token: HTTP $code (want 401 or 400)" ;; esac
ok token recover "$TK"
line "recover token success: $TK"
code=$(verify "$TK")
[ "$code" = 200 ] || fail "POST /verify of a recovered token: HTTP $code $(cat "$R/verify.out")"

# ---- miners ----
ok user miner add alice f01000
line "create user:alice miner:f01000 success."
ok user miner add alice f01000
line "update user:alice miner:f01000 success."
ok user miner add --openMining=false alice f01000
line "update user:alice miner:f01000 success."
bad user miner add alice f1hvat2tb74pmj7gkjljemmbdcestr6dgxpfflm4q
err_has "ERROR: "
ok user miner exist --user alice f01000
line "true"
ok user miner exist --user alice t01000
line "true"
ok user miner exist --user bob f01000
line "false"
ok user miner list alice
line "user: alice, miner count:1"
match '^idx +miner +openMining +create-time *$'
match '^0 +f01000 +false +[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ *$'
ok user miner list bob
line "user: bob, miner count:0"
ok miner has f01000
line "true"
ok miner has f09999
line "false"
ok user list
line "miners: [f01000]"

# ---- signers ----
ok user signer register alice "$F1"
line "register signer address:$F1 success for alice."
ok user signer exist --user alice "$F1"
line "true"
ok user signer exist --user bob "$F1"
line "false"
ok user signer list alice
line "user: alice, signer count:1"
match '^idx +signer +create-time *$'
match "^0 +$F1 +[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [^ ]+ *\$"
ok signer has "$F1"
line "true"
ok user signer unregister --user alice "$F1"
line "unregister signers: $F1 of alice success."
ok user signer exist --user alice "$F1"
line "false"
ok user signer register alice "$F1"
ok user signer register bob "$F1"
bad signer del "$F1"
err_has "--really-do-it must be specified"
ok signer has "$F1"
line "true"
ok signer del --really-do-it "$F1"
line "delete success"
ok signer has "$F1"
line "false"
bad user signer register alice f01000
err_has "ERROR: "

# ---- rate limits ----
ok user rate-limit get alice
line "user have no request rate limit"
ok user rate-limit add alice 100 1h30m
match "^upsert user rate limit success:${TAB}[^ ]+\$"
LID=$(printf '%s\n' "$OUT" | sed -n "s/^upsert user rate limit success:${TAB}//p")
ok user rate-limit get alice
line "user:alice, limit id:$LID, request limit amount:100, duration:1.50(h)"
bad user rate-limit add alice 5 1h
err_has "user rate limit:$LID exists"
bad user rate-limit add alice 5 90
err_has "ERROR: invalid duration"
ok user rate-limit update alice "$LID" 20 2m
line "upsert user rate limit success:${TAB}$LID"
ok user rate-limit get alice
line "user:alice, limit id:$LID, request limit amount:20, duration:0.03(h)"
bad user rate-limit update alice no-such-id 20 2m
err_has "user rate limit:no-such-id NOT exists"
ok user rate-limit del alice "$LID"
line "delete rate limit success, $LID"
ok user rate-limit get alice
line "user have no request rate limit"
ok user rate-limit del alice "$LID"
line "user:alice, rate-limit-id:$LID Not exits"

# ---- deleting ----
ok user miner delete f01000
line "remove miner:f01000 success."
ok user miner delete f01000
line "miner:f01000 not exists."
ok miner has f01000
line "false"
ok user delete bob
line "remove user success"
bad user delete nobody-here
err_has "not found user"
ok user recover bob
line "recover user success"
ok user get bob
line "name: bob"

# ---- the token is refused once removed ----
ok token rm "$TK"
line "remove token success: $TK"
code=$(verify "$TK")
case $code in 401 | 400) ;; *) fail "POST /verify after token rm: HTTP $code (want 401 or 400)" ;; esac

# ---- client errors: no daemon, bad token ----
bad --listen 127.0.0.1:1 miner has f01000
err_has "ERROR: cannot reach venus-auth at http://127.0.0.1:1"
mkdir "$R/other" && cp "$R/api" "$R/other/api" && printf 'not-a-token\n' >"$R/other/token"
if OUT=$("$BIN" --repo "$R/other" miner has f01000 2>"$R/err"); then fail "a bad token was accepted"; fi
ERR=$(cat "$R/err")
LAST="--repo other miner has"
err_has "401"

# ---- ha status: two active/active instances over one database ----
# holders <repo>: the instance ids of `ha status`'s "Peers", one a line, sorted.
holders() {
    "$BIN" --repo "$1" ha status 2>"$R/err" | sed -n '/"Peers"/,$p' |
        sed -n 's/^[[:space:]]*"Holder": "\([^"]*\)",*$/\1/p' | sort
}
# self <repo>: the top-level "Holder" (this instance's id).
self() { "$BIN" --repo "$1" ha status 2>/dev/null | sed -n "s/^$TAB\"Holder\": \"\\([^\"]*\\)\",*\$/\\1/p"; }
ok ha status
line "${TAB}\"Role\": \"active\","
line "${TAB}\"Enabled\": false,"
ID1=$(self "$R")
[ -n "$ID1" ] || fail "ha status printed no Holder: $OUT"
bad ha promote
err_has "active/active"
bad ha pause
err_has "active/active"
R2="$R/second"
mkdir "$R2"
if [ $# -eq 0 ]; then set -- --db-type sqlite --pg-dsn "$R/auth.db"; fi
"$BIN" --repo "$R2" run --listen 127.0.0.1:0 "$@" >"$R/daemon2.log" 2>&1 &
PID2=$!
i=0
while [ ! -s "$R2/api" ] || [ ! -s "$R2/token" ]; do
    kill -0 "$PID2" 2>/dev/null || { PID2=; fail "the second venus-auth exited early: $(cat "$R/daemon2.log")"; }
    i=$((i + 1))
    [ "$i" -le 150 ] || fail "no $R2/api and $R2/token after 15s"
    sleep 0.1
done
ID2=$(self "$R2")
[ -n "$ID2" ] && [ "$ID2" != "$ID1" ] || fail "instance ids: '$ID1' and '$ID2'"
want=$(printf '%s\n%s\n' "$ID1" "$ID2" | sort)
i=0
while [ "$(holders "$R")" != "$want" ] || [ "$(holders "$R2")" != "$want" ]; do
    i=$((i + 1))
    [ "$i" -le 100 ] || fail "ha status does not list both instances: got '$(holders "$R")' and '$(holders "$R2")', want '$want'"
    sleep 0.1
done
ADDR2=$(cat "$R2/api")
"$BIN" --repo "$R" ha status | grep -qF "\"Addr\": \"$ADDR2\"" || fail "ha status lacks the second instance's address $ADDR2"
# non-admin tokens are refused
ok token gen --perm read bob
RTK=${OUT#generate token success: }
code=$(curl -sS -o "$R/ha.out" -w '%{http_code}' -H "Authorization: Bearer $RTK" "$URL/ha/status" || echo curl-failed)
[ "$code" = 400 ] && grep -q "need admin" "$R/ha.out" || fail "GET /ha/status with a read token: HTTP $code $(cat "$R/ha.out")"
# a clean stop deletes the row: gone from the list at once
kill "$PID2"
wait "$PID2" 2>/dev/null
PID2=
[ "$(holders "$R")" = "$ID1" ] || fail "after stopping the second instance ha status lists '$(holders "$R")'"
echo "ha status: both instances listed ($ID1, $ID2), the stopped one removed"

# ---- the PostgreSQL run really stored its data there ----
if [ -n "${DB:-}" ]; then
    n=$(psql -tA "$PG_DSN" -c "SELECT count(*) FROM users") || fail "cannot query $DB"
    [ "$n" -ge 2 ] || fail "expected users in PostgreSQL database $DB, found $n"
fi

echo "PASS: venus-auth CLI end-to-end${DB:+ (PostgreSQL)}"
