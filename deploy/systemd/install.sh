#!/bin/sh
# install.sh: installs the venus-c daemons as systemd services.
#
#   sudo ./deploy/systemd/install.sh [--build DIR] [--prefix DIR] [--no-reload]
#
# Creates the system user "venus", copies the six binaries from the build directory to
# <prefix>/bin (default /usr/local/bin), the units to /etc/systemd/system, writes
# /etc/venus/venus-<daemon>.env templates (never overwriting an existing one) and runs
# `systemctl daemon-reload`. It starts nothing: see the README, "Deploying with systemd".
set -eu

usage() {
    cat <<'TXT'
usage: install.sh [--build DIR] [--prefix DIR] [--no-reload]

Installs the venus-c daemons (venus-auth, venus-gateway, venus-devnet, venus-wallet,
venus-messager, venus-miner) as systemd services:
  - creates the system user and group "venus" (home /var/lib/venus, no login shell);
  - copies the binaries from DIR (default: build, then build-dep, build-local) to PREFIX/bin
    (default /usr/local); the units expect /usr/local/bin, so another prefix needs drop-ins;
  - copies deploy/systemd/venus-*.service to /etc/systemd/system;
  - writes /etc/venus/venus-*.env templates (0600, kept if present) for the flags and tokens;
  - runs systemctl daemon-reload (unless --no-reload or systemd is not running).
It enables and starts nothing. Must run as root.
TXT
}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=""
prefix=/usr/local
reload=1
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --build) [ $# -ge 2 ] || { echo "install.sh: --build needs a directory" >&2; exit 2; }; build=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix=$2; shift 2 ;;
    --no-reload) reload=0; shift ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: must run as root (it creates the venus user and writes /etc/systemd/system): sudo $0 $*" >&2
    exit 1
fi

if [ -z "$build" ]; then
    for d in "$top/build" "$top/build-dep" "$top/build-local"; do
        if [ -x "$d/auth/venus-auth" ]; then build=$d; break; fi
    done
fi
[ -n "$build" ] || { echo "install.sh: no build directory with the binaries found; build first or pass --build DIR" >&2; exit 1; }

bins="auth/venus-auth gateway/venus-gateway devnet/venus-devnet wallet/venus-wallet messager/venus-messager minerd/venus-miner"
for b in $bins; do
    [ -x "$build/$b" ] || { echo "install.sh: $build/$b is missing: build the tree first" >&2; exit 1; }
done

if ! getent group venus >/dev/null; then
    groupadd --system venus
fi
if ! getent passwd venus >/dev/null; then
    useradd --system --gid venus --home-dir /var/lib/venus --no-create-home --shell /usr/sbin/nologin \
        --comment "venus-c daemons" venus
    echo "created system user venus"
fi

install -d -m 0755 "$prefix/bin"
for b in $bins; do
    install -m 0755 "$build/$b" "$prefix/bin/"
done
echo "installed binaries to $prefix/bin"

install -d -m 0755 /etc/systemd/system
for u in "$here"/venus-*.service; do
    install -m 0644 "$u" /etc/systemd/system/
done
install -d -m 0755 "$prefix/share/doc/venus-c"
install -m 0644 "$top/README.md" "$prefix/share/doc/venus-c/README.md"
echo "installed units to /etc/systemd/system"

install -d -m 0755 /etc/venus
# env_template <daemon> <text>: /etc/venus/venus-<daemon>.env unless it exists.
env_template() {
    f=/etc/venus/venus-$1.env
    if [ -e "$f" ]; then
        echo "kept $f"
        return 0
    fi
    (umask 077 && printf '%s\n' "$2" >"$f")
    echo "wrote $f"
}
env_template auth '# venus-auth flags (see venus-auth run --help).
#VENUS_AUTH_LISTEN=127.0.0.1:8989
#VENUS_AUTH_OPTS=--db-type postgres --pg-dsn postgresql://venus@127.0.0.1/venus_auth'
env_template gateway '# venus-gateway: a venus-auth admin token (after venus-auth started: cat /var/lib/venus/auth/token).
VENUS_AUTH_TOKEN=
#VENUS_AUTH_URL=http://127.0.0.1:8989
#VENUS_GATEWAY_LISTEN=/ip4/127.0.0.1/tcp/45132'
env_template devnet '# venus-devnet (development chain only).
VENUS_AUTH_TOKEN=
#VENUS_DEVNET_MINE=external
#VENUS_DEVNET_LISTEN=127.0.0.1:3453'
env_template wallet '# venus-wallet: a venus-auth token (perm sign) of the user the wallet serves, e.g.
#   venus-auth --repo /var/lib/venus/auth token gen --perm sign wallet
# The keystore passphrase goes in /etc/venus/wallet.password (0600, root).
VENUS_WALLET_GATEWAY_TOKEN=
#VENUS_WALLET_ACCOUNTS=wallet
#VENUS_GATEWAY_API=/ip4/127.0.0.1/tcp/45132'
env_template messager '# venus-messager: the venus-auth admin token (also used for the node and gateway).
VENUS_AUTH_TOKEN=
#VENUS_NODE_URL=/ip4/127.0.0.1/tcp/3453
#VENUS_MESSAGER_OPTS=--node-token <node token> --db-type postgres --pg-dsn postgresql://venus@127.0.0.1/venus_messager'
env_template miner '# venus-miner: everything else is in /var/lib/venus/miner/config.toml (venus-miner init).
#VENUS_MINER_OPTS=--nosync'
if [ ! -e /etc/venus/wallet.password ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >/etc/venus/wallet.password)
    echo "wrote a random keystore passphrase to /etc/venus/wallet.password"
fi

if [ "$reload" -eq 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    echo "systemctl daemon-reload done"
else
    echo "systemd is not running here: skipped daemon-reload"
fi
echo "next: systemctl enable --now venus-auth, then fill /etc/venus/*.env (README: Deploying with systemd)"
