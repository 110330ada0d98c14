#!/usr/bin/env bash
# Builds the solution and runs every test, installing what the tests need on a fresh machine:
# PostgreSQL 15 (the second state store). librdkafka comes inside the Confluent.Kafka NuGet package.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Core]
set -euo pipefail
cd "$(dirname "$0")/.."

SP_TEST_POSTGRES="$(scripts/ensure-postgres.sh | tail -n1)"
export SP_TEST_POSTGRES

dotnet build StreamPersonalization.sln -c Release -nologo -v quiet
results="$(mktemp -d)"
status=0
# One test assembly at a time: the pipeline tests time Kafka rebalances and should not share 2 cores with the rest.
for project in tests/*/*.csproj; do
  name="$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" \
    || status=$?
done

# One plain summary line over every assembly (CI reads it).
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed))); skipped=$((skipped + $(get notExecuted)))
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
