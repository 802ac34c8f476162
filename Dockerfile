# Build stage: compiles the `nexo` binary in release mode.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin nexo

# Runtime stage: the binary, pg_dump (tenant backups before deletion) and curl (health check).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates postgresql-client curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/nexo --create-home nexo
COPY --from=build /src/target/release/nexo /usr/local/bin/nexo
USER nexo
WORKDIR /var/lib/nexo
ENV NEXO_ENV=production \
    NEXO_DATA_DIR=/var/lib/nexo \
    NEXO_LISTEN=0.0.0.0:8080 \
    NEXO_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["nexo"]
CMD ["serve"]
