# venus-devnet (venus-c): local development chain (:3453). The chain must exist first: venus-devnet
# init --genesis <file>.
# Multi-stage image; build from the repository root:
#   docker build -f deploy/docker/venus-devnet.Dockerfile -t venus-c/venus-devnet .
# Runs as user venus (uid 10001); the repo lives in the volume /var/lib/venus.
FROM debian:bookworm AS build
COPY . /src
RUN /src/deploy/docker/build.sh venus-devnet

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libjansson4 libjwt0 libmicrohttpd12 libpq5 libsecp256k1-1 libsodium23 libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/venus --create-home --shell /usr/sbin/nologin venus
COPY --from=build /out/venus-devnet /usr/local/bin/venus-devnet
USER venus
WORKDIR /var/lib/venus
VOLUME ["/var/lib/venus"]
EXPOSE 3453
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:3453/healthcheck || exit 1
ENTRYPOINT ["/usr/local/bin/venus-devnet", "--repo", "/var/lib/venus/devnet"]
CMD ["run", "--listen", "0.0.0.0:3453"]
