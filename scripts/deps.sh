#!/bin/sh
# deps.sh: installs the Debian 12 packages venus-c needs to build, test and run.
# Runs apt-get as root, or through sudo when not root.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libjansson-dev libjwt-dev libsodium-dev libpq-dev libsqlite3-dev
      libcurl4-openssl-dev libsecp256k1-dev postgresql wrk curl
      python3 python3-yaml systemd"
# installed without their recommends: prometheus ships promtool (the deploy tests check the
# Prometheus config and alert rules with it) and would otherwise pull in node-exporter
PKGS_NOREC="prometheus"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
# missing <packages>: those not installed yet
missing() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf ' %s' "$p"
    done
}
missing=$(missing $PKGS)
norec=$(missing $PKGS_NOREC)
if [ -n "$missing$norec" ]; then
    echo "deps: installing$missing$norec"
    $SUDO apt-get update -q
    [ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
    [ -z "$norec" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $norec
else
    echo "deps: all packages present"
fi
