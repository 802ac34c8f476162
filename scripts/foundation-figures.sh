#!/usr/bin/env bash
# Measures the foundation's operator figures with the release binary:
#   - `nexo tenant create` wall time per tenant (SQLite, and PostgreSQL if NEXO_BENCH_DATABASE_URL
#     names a server whose database can be created and dropped),
#   - the server's resident memory when idle with N tenants provisioned, before and after one
#     signed-in request to each tenant.
# Usage: scripts/foundation-figures.sh [tenants=100]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nexo-target}"
cargo build --release --bin nexo -q
NEXO="$CARGO_TARGET_DIR/release/nexo"
PG_ADMIN_URL="${NEXO_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export NEXO_LOG=warn

create_tenants() { # $1 = label
  local start end
  start=$(date +%s.%N)
  for i in $(seq 1 "$N"); do
    "$NEXO" tenant create "bench$i" --name "Bench $i" --owner-email "owner@bench$i.example" --json >/dev/null
  done
  end=$(date +%s.%N)
  echo "$1: $N tenants created in $(echo "$end - $start" | bc) s, $(echo "scale=1; ($end - $start) * 1000 / $N" | bc) ms per tenant (one CLI process each)"
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

measure_backend() { # $1 = label; environment already set
  create_tenants "$1"
  local port=18777
  NEXO_LISTEN="127.0.0.1:$port" "$NEXO" serve >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  sleep 1
  echo "$1: idle server RSS with $N tenants: $(rss_kib $pid) KiB"
  for i in $(seq 1 "$N"); do
    curl -fs "http://127.0.0.1:$port/graphql" -H "Host: bench$i.localhost" -H 'Content-Type: application/json' \
      -d '{"query":"mutation { refreshToken(token: \"unknown\") { accessToken } }"}' >/dev/null
  done
  sleep 1
  echo "$1: RSS after one request to each of the $N tenants: $(rss_kib $pid) KiB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(export NEXO_DATA_DIR="$work/sqlite"; unset NEXO_DATABASE_URL; measure_backend "sqlite")

if psql "$PG_ADMIN_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  db="nexo_figures_$$"
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db"
  (export NEXO_DATA_DIR="$work/pg" NEXO_DATABASE_URL="${PG_ADMIN_URL%/*}/$db"; measure_backend "postgres")
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE $db WITH (FORCE)"
else
  echo "postgres: skipped ($PG_ADMIN_URL not reachable)"
fi
