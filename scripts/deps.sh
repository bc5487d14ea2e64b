#!/bin/sh
# deps.sh: installs the Debian 12 packages venus-c needs to build, test and run.
# Runs apt-get as root, or through sudo when not root.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libjansson-dev libjwt-dev libsodium-dev libpq-dev libsqlite3-dev
      libcurl4-openssl-dev libsecp256k1-dev postgresql wrk curl"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
else
    echo "deps: all packages present"
fi
