#!/usr/bin/env bash
# Makes a local PostgreSQL 15 usable by the storage tests. Idempotent; run as root.
#   - installs the Debian `postgresql` package if pg_ctlcluster is missing,
#   - starts cluster 15/main if it is down,
#   - creates role `sp` (password `sp`) and database `sp_test` if absent,
#   - prints the connection string to export as SP_TEST_POSTGRES.
# Usage: export SP_TEST_POSTGRES="$(scripts/ensure-postgres.sh | tail -n1)"
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
PG_PORT="${PG_PORT:-5432}"
SP_ROLE="sp"
SP_PASSWORD="sp"
SP_DATABASE="sp_test"

if [[ $EUID -ne 0 ]]; then
  echo "ensure-postgres.sh must run as root (it installs packages and starts the cluster)." >&2
  exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "Installing postgresql..." >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {found=1} END {exit !found}'; then
  echo "Creating cluster $PG_VERSION/$PG_CLUSTER..." >&2
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT" >&2
fi

if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c && $4=="online" {found=1} END {exit !found}'; then
  echo "Starting cluster $PG_VERSION/$PG_CLUSTER..." >&2
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >&2
fi

PORT="$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $3}')"

psql_admin() { runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

for _ in $(seq 1 30); do
  psql_admin -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 1
done

if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$SP_ROLE'")" != "1" ]]; then
  echo "Creating role $SP_ROLE..." >&2
  psql_admin -c "CREATE ROLE $SP_ROLE LOGIN PASSWORD '$SP_PASSWORD'" >&2
fi

if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$SP_DATABASE'")" != "1" ]]; then
  echo "Creating database $SP_DATABASE..." >&2
  psql_admin -c "CREATE DATABASE $SP_DATABASE OWNER $SP_ROLE" >&2
fi

echo "Host=127.0.0.1;Port=$PORT;Username=$SP_ROLE;Password=$SP_PASSWORD;Database=$SP_DATABASE"
