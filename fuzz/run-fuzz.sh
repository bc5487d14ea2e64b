#!/bin/sh
# run-fuzz.sh FUZZER WORKDIR SEEDDIR SECONDS: fuzz for SECONDS with a writable corpus in WORKDIR
# seeded from SEEDDIR (the seed corpus in the repository is never written to).
set -e
fuzzer=$1 work=$2 seeds=$3 secs=$4
mkdir -p "$work"
exec "$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work" "$seeds"
