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
# source files change. Confluent.Kafka 2.16.0 brings librdkafka.redist: the native library ships in
# the package (runtimes/<rid>/native in the publish output), nothing comes from the OS.
COPY Directory.Build.props ./
COPY src/StreamPersonalization.Core/StreamPersonalization.Core.csproj       src/StreamPersonalization.Core/
COPY src/StreamPersonalization.Storage/StreamPersonalization.Storage.csproj src/StreamPersonalization.Storage/
COPY src/StreamPersonalization.Kafka/StreamPersonalization.Kafka.csproj     src/StreamPersonalization.Kafka/
COPY src/StreamPersonalization.Runtime/StreamPersonalization.Runtime.csproj src/StreamPersonalization.Runtime/
COPY src/StreamPersonalization.Node/StreamPersonalization.Node.csproj       src/StreamPersonalization.Node/
COPY src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj         src/StreamPersonalization.Cli/
RUN dotnet restore src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj

COPY src/ src/
RUN dotnet publish src/StreamPersonalization.Cli/StreamPersonalization.Cli.csproj \
        -c Release -o /app --no-restore /p:UseAppHost=false

############################ runtime ############################
# aspnet (not runtime): the CLI references the Microsoft.AspNetCore.App shared framework.
# librdkafka is the package's own build: its default glibc build needs libsasl2.so.3, which Ubuntu
# 24.04 (the .NET 10 image) lacks like Debian 12, so Confluent.Kafka's loader takes the package's
# centos8-librdkafka.so (needs only libc, libm, libz and libdl). `sp` fails at start with a message
# naming the missing library if no build loads.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime

# ca-certificates: for TLS to managed Kafka / PostgreSQL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# The app resolves config/appsettings.json and config/segments.yaml relative to the working
# directory, so WORKDIR must be /app with config/ beside the binaries.
WORKDIR /app
COPY --from=build /app ./
COPY config/ ./config/
COPY hocon/ ./hocon/

# Node:DataDirectory (default "data" = /app/data). With Storage:Provider=postgres nothing durable
# lives there; with sqlite it holds sp.db and must be a volume. Owned by the non-root user.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data

ENV DOTNET_NOLOGO=1 \
    DOTNET_GCgen0size=0x10000000 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    SP__Node__DataDirectory=/app/data

# Non-root: the .NET images ship the user "app" (UID 1654, exported as $APP_UID).
USER $APP_UID

# HTTP (/healthz, /readyz, /metrics, /v1) listens on Http:Urls, 127.0.0.1:8080 by default: set
# SP__Http__Urls=http://0.0.0.0:8080 in a container (docker-compose.yml and deploy/ do). dotnet runs as
# PID 1 and handles SIGTERM itself (graceful shutdown, see RUNBOOK.md).
# Akka remoting (cluster membership) on 4053: SP_AKKA_HOSTNAME / SP_AKKA_PUBLIC_HOSTNAME set where nodes meet.
EXPOSE 8080 4053
ENTRYPOINT ["dotnet", "/app/sp.dll"]
CMD ["run"]
