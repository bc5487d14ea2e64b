#!/bin/sh
# pg-fixture.sh start|stop <statedir> | restart <statedir> [down_seconds]: a throwaway PostgreSQL
# server for ctest (fixture "pg").
#
# start: initdb a data dir under /tmp (trust auth), start postgres on 127.0.0.1:<free port> with
#        its unix socket in the data dir, create database "vctest", write the DSN to
#        <statedir>/pg.dsn. Runs the server as the "postgres" user when invoked as root.
# stop:  pg_ctl stop -m fast and remove the data dir.
# restart: pg_ctl stop -m fast, wait down_seconds (default 0), start again on the same port, for
#        tests of surviving a database restart (they start a private server in their own
#        statedir: the shared one serves other tests at the same time).
set -eu

cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
    echo "usage: $0 start|stop <statedir> | restart <statedir> [down_seconds]" >&2
    exit 2
fi

find_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ]; then
            echo "$d"
            return 0
        fi
    done
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    if [ -x "$d/initdb" ]; then
        echo "$d"
        return 0
    fi
    return 1
}

if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

server_opts() { # port datadir
    echo "-c listen_addresses=127.0.0.1 -p $1 -k $2 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
}

stop() {
    [ -f "$state/pg.datadir" ] || return 0
    datadir=$(cat "$state/pg.datadir")
    bindir=$(find_bindir) || true
    if [ -n "$datadir" ] && [ -d "$datadir" ]; then
        if [ -n "${bindir:-}" ] && [ -f "$datadir/postmaster.pid" ]; then
            as_pg "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
        fi
        case "$datadir" in
        /tmp/vc-pg-*) rm -rf "$datadir" ;;
        esac
    fi
    rm -f "$state/pg.datadir" "$state/pg.dsn" "$state/pg.port"
}

start() {
    bindir=$(find_bindir) || { echo "pg-fixture: PostgreSQL server binaries not found" >&2; exit 1; }
    mkdir -p "$state"
    stop # a previous run that was not stopped
    datadir=$(mktemp -d /tmp/vc-pg-XXXXXX)
    echo "$datadir" >"$state/pg.datadir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$datadir"
    fi
    chmod 700 "$datadir"
    if ! as_pg "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$state/initdb.log" 2>&1; then
        cat "$state/initdb.log" >&2
        exit 1
    fi
    tries=0
    while :; do
        tries=$((tries + 1))
        # A random port in 20000-59999; postgres refuses to start if it is taken, then retry.
        port=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ) + 20000 ))
        if as_pg "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 \
            -o "$(server_opts "$port" "$datadir")" \
            start >/dev/null 2>&1; then
            break
        fi
        if [ "$tries" -ge 10 ]; then
            echo "pg-fixture: postgres did not start:" >&2
            cat "$datadir/server.log" >&2 || true
            exit 1
        fi
    done
    i=0
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; do
        i=$((i + 1))
        if [ "$i" -ge 100 ]; then
            echo "pg-fixture: postgres not ready on port $port" >&2
            exit 1
        fi
        sleep 0.1
    done
    "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE vctest" >/dev/null
    echo "$port" >"$state/pg.port"
    echo "postgresql://postgres@127.0.0.1:$port/vctest" >"$state/pg.dsn.tmp"
    mv "$state/pg.dsn.tmp" "$state/pg.dsn"
    echo "pg-fixture: $(cat "$state/pg.dsn") (data $datadir)"
}

restart() {
    datadir=$(cat "$state/pg.datadir")
    port=$(cat "$state/pg.port")
    bindir=$(find_bindir) || { echo "pg-fixture: PostgreSQL server binaries not found" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null
    sleep "${1:-0}"
    as_pg "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 -o "$(server_opts "$port" "$datadir")" \
        start >/dev/null
}

case "$cmd" in
start) start ;;
stop) stop ;;
restart) restart "${3:-0}" ;;
*)
    echo "usage: $0 start|stop <statedir> | restart <statedir> [down_seconds]" >&2
    exit 2
    ;;
esac
