# venus-gateway (venus-c): wallet and prover connections, sign and proof routing (:45132). Needs
# --auth-url and --auth-token (or Auth.URL / Auth.Token in its config.toml).
# Multi-stage image; build from the repository root:
#   docker build -f deploy/docker/venus-gateway.Dockerfile -t venus-c/venus-gateway .
# Runs as user venus (uid 10001); the repo lives in the volume /var/lib/venus.
FROM debian:bookworm AS build
COPY . /src
RUN /src/deploy/docker/build.sh venus-gateway

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libjansson4 libjwt0 libmicrohttpd12 libpq5 libsecp256k1-1 libsodium23 libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/venus --create-home --shell /usr/sbin/nologin venus
COPY --from=build /out/venus-gateway /usr/local/bin/venus-gateway
USER venus
WORKDIR /var/lib/venus
VOLUME ["/var/lib/venus"]
EXPOSE 45132
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:45132/healthcheck || exit 1
ENTRYPOINT ["/usr/local/bin/venus-gateway", "--repo", "/var/lib/venus/gateway"]
CMD ["--listen", "/ip4/0.0.0.0/tcp/45132", "run"]
