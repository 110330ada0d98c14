# syntax=docker/dockerfile:1
#
# StreamPersonalization node image: `sp` (src/StreamPersonalization.Cli) on the ASP.NET Core runtime.
#
#   docker build -t streampersonalization/sp:dev .
#   docker run --rm streampersonalization/sp:dev run --help
#
# Default command is `run` (one node). Configure it with SP__Section__Key environment variables, e.g.
#   SP__Kafka__BootstrapServers=kafka:29092  SP__Storage__Provider=postgres
#   SP__Storage__Postgres__ConnectionString=...  SP__Node__NodeId=node-1
# or with `--set Key=Value` after the verb. Other verbs: produce, demo, bench.

############################ build ############################
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project files only, so the (slow) restore layer is reused while only
# source files change. Directory.Build.targets carries the Confluent.Kafka 1.9.3 PackageDownload
# and reference (no librdkafka.redist: the native library comes from the OS, see the runtime stage).
COPY Directory.Build.props Directory.Build.targets ./
COPY src/StreamPersonalization.Core/StreamPersonalization.Core.csproj       src/StreamPersonalization.Core/
COPY src/StreamPersonalization.Storage/StreamPersonalization.Storage.csproj src/StreamPersonalization.Storage/
COPY src/StreamPersonalization.Kafka/StreamPersonalization.Kafka.csproj     src/StreamPersonalization.Kafka/
COPY src/StreamPersonalization.Node/StreamPersonalization.Node.csproj       src/StreamPersonalization.Node/
COPY src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj         src/StreamPersonalization.Cli/
RUN dotnet restore src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj

COPY src/ src/
RUN dotnet publish src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj \
        -c Release -o /app --no-restore /p:UseAppHost=false

############################ runtime ############################
# aspnet (not runtime): the CLI references the Microsoft.AspNetCore.App shared framework.
# Note: .NET 10 images are Ubuntu 24.04 "noble" (no Debian images are published for .NET 10), so
# librdkafka1 here is Ubuntu's 2.3.x rather than the Debian 2.0.2 the tests run against.
# Confluent.Kafka 1.9.3 works with newer librdkafka (the C ABI is backward compatible); it does
# NOT work with Confluent.Kafka 2.x + librdkafka < 2.1, so do not downgrade the OS package.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime

# librdkafka1: the native Kafka client Confluent.Kafka loads (librdkafka.so.1).
# ca-certificates: for TLS to managed Kafka / PostgreSQL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# The app resolves config/appsettings.json and config/segments.yaml relative to the working
# directory, so WORKDIR must be /app with config/ beside the binaries.
WORKDIR /app
COPY --from=build /app ./
COPY config/ ./config/

# Node:DataDirectory (default "data" = /app/data). With Storage:Provider=postgres nothing durable
# lives there; with sqlite it holds sp.db and must be a volume. Owned by the non-root user.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data

ENV DOTNET_NOLOGO=1 \
    DOTNET_GCgen0size=0x10000000 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    SP__Node__DataDirectory=/app/data

# Non-root: the .NET images ship the user "app" (UID 1654, exported as $APP_UID).
USER $APP_UID

# No EXPOSE / HEALTHCHECK yet: HTTP (/healthz, /readyz on 127.0.0.1:8080) is not implemented in
# this build. dotnet runs as PID 1 and handles SIGTERM itself (graceful shutdown, see RUNBOOK.md).
ENTRYPOINT ["dotnet", "/app/sp.dll"]
CMD ["run"]
