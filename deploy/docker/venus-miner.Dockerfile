# venus-miner (venus-c): block production (:12308). The repo needs a config.toml first (venus-miner
# init, or one mounted from a ConfigMap).
# Multi-stage image; build from the repository root:
#   docker build -f deploy/docker/venus-miner.Dockerfile -t venus-c/venus-miner .
# Runs as user venus (uid 10001); the repo lives in the volume /var/lib/venus.
FROM debian:bookworm AS build
COPY . /src
RUN /src/deploy/docker/build.sh venus-miner

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libjansson4 libjwt0 libmicrohttpd12 libpq5 libsecp256k1-1 libsodium23 libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/venus --create-home --shell /usr/sbin/nologin venus
COPY --from=build /out/venus-miner /usr/local/bin/venus-miner
USER venus
WORKDIR /var/lib/venus
VOLUME ["/var/lib/venus"]
EXPOSE 12308
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:12308/healthcheck || exit 1
ENTRYPOINT ["/usr/local/bin/venus-miner", "--repo", "/var/lib/venus/miner"]
CMD ["run", "--listen", "0.0.0.0:12308"]
