#!/usr/bin/env bash
# Runs the demo on the embedded default (mock Kafka cluster in-process + SQLite under ./data).
# Needs only the .NET 10 SDK: librdkafka comes inside the Confluent.Kafka NuGet package. Extra arguments go to `sp demo`,
# e.g. scripts/demo.sh --duration 60s --rate 50000
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/StreamPersonalization.Cli -c Release -nologo -v quiet
# A larger gen0 budget: fewer young collections for a per-record allocation pattern (README, Performance).
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x10000000}"
exec dotnet src/StreamPersonalization.Cli/bin/Release/net10.0/sp.dll demo "$@"
