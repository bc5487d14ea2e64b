#!/bin/sh
# build.sh <binary>...: the build stage of every deploy/docker/*.Dockerfile. Installs the Debian
# -dev packages venus-c needs, builds the named binaries (Release, no fuzz targets) from /src and
# installs them, stripped, to /out. Runs inside debian:bookworm as root.
set -eu
[ $# -gt 0 ] || { echo "usage: build.sh venus-auth|venus-gateway|... (one or more)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential cmake pkg-config \
    libmicrohttpd-dev libjansson-dev libjwt-dev libsodium-dev libpq-dev libsqlite3-dev \
    libcurl4-openssl-dev libsecp256k1-dev
cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DVC_FUZZ=OFF >/dev/null
cmake --build /build -j "$(nproc)" --target "$@"
install -d /out
for b in "$@"; do
    dir=${b#venus-}
    [ "$dir" = miner ] && dir=minerd
    install -s -m 0755 "/build/$dir/$b" /out/
done
