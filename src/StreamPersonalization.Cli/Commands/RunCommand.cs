using System.CommandLine;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary><c>sp run</c>: one node of the user stage against configured Kafka and store.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var set = CommonOptions.Set();
        var bootstrap = CommonOptions.Bootstrap("Kafka bootstrap servers (Kafka:BootstrapServers), e.g. 127.0.0.1:9092.");
        var nodeId = new Option<string?>("--node-id") { Description = "This node's identity (Node:NodeId)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "Local data directory (Node:DataDirectory); the SQLite store lives there by default." };
        var store = new Option<string?>("--store") { Description = "State store (Storage:Provider): sqlite or postgres." };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string (Storage:Postgres:ConnectionString)." };
        var duration = CommonOptions.Duration("Stop by itself after this long (checkpointing first). Default: run until SIGTERM/Ctrl-C.");
        var urls = new Option<string?>("--urls") { Description = "HTTP listener for /healthz, /readyz, /metrics and the /v1 API (Http:Urls), default http://127.0.0.1:8080; \"none\" disables it." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };
        var command = new Command("run", "Run one node: consume clickstream, keep user entities, publish sessions and segment changes, checkpoint to the store.")
        {
            config, set, bootstrap, nodeId, dataDir, store, postgres, duration, urls, logLevel,
        };
        command.SetAction(async (parse, ct) =>
        {
            var overrides = CommonOptions.Overrides(parse.GetValue(set));
            void Put(string key, string? value) { if (value is not null) overrides[key] = value; }
            Put("Kafka:BootstrapServers", parse.GetValue(bootstrap));
            Put("Node:NodeId", parse.GetValue(nodeId));
            Put("Node:DataDirectory", parse.GetValue(dataDir));
            Put("Storage:Provider", parse.GetValue(store));
            Put("Storage:Postgres:ConnectionString", parse.GetValue(postgres));
            Put("Http:Urls", parse.GetValue(urls));
            if (!StartupErrors.TryLoad(() => NodeSettings.Load(parse.GetValue(config), overrides).Validate(embeddedKafka: false), out var settings))
                return StartupErrors.ConfigurationError;
            using var loggers = Logging.Create(parse.GetValue(logLevel));
            using var signal = new ShutdownSignal(ct);
            return await RunNodeAsync(settings, loggers, parse.GetValue(duration), signal.Token);
        });
        return command;
    }

    internal static async Task<int> RunNodeAsync(NodeSettings settings, ILoggerFactory loggers, TimeSpan? duration, CancellationToken ct)
    {
        var log = loggers.CreateLogger("sp.run");
        var catalog = settings.LoadCatalog();
        await using var store = settings.CreateStore();
        using var pseudonymizer = settings.Privacy.CreatePseudonymizer();
        var shardOptions = settings.Shards with { Privacy = settings.Privacy.ShardPrivacy(pseudonymizer) };
        await using var wiring = await NodeWiring.CreateAsync(settings, settings.Kafka, catalog, store, shardOptions, pseudonymizer, loggers, ct);
        var node = wiring.Node;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (duration is { } d) stop.CancelAfter(d);
        log.LogInformation("Node {NodeId} starting: Kafka {Bootstrap}, store {Store}, catalog v{Version} ({Segments} segments)",
            settings.Node.NodeId, settings.Kafka.BootstrapServers, settings.StorageProvider, catalog.Version, catalog.Segments.Count);
        var running = node.RunAsync(stop.Token);
        var stage = wiring.CreateStage(settings, settings.Kafka, store, loggers);
        var staging = stage?.RunAsync(stop.Token) ?? Task.CompletedTask;
        await using var cohorts = StreamPersonalization.Node.Privacy.CohortReleaseService.Start(settings, settings.Kafka, catalog, store, loggers, stop.Token);
        await using var http = settings.Http.Disabled ? null : await HealthEndpoints.StartAsync(node, settings.Http, wiring.Serving?.Services, loggers, ct, cohorts.Releases);
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            if (!running.IsCompleted) log.LogInformation("{Status}", NodeStatus.Describe(node));
        }
        await running;
        var stageFailed = false;
        try { await staging; }
        catch (Exception ex) { stageFailed = true; log.LogError(ex, "The experiment stage failed; it resumes from its checkpoint on restart"); }
        log.LogInformation("Node {NodeId} stopped. {Status}; experiment snapshots published {Snapshots}", settings.Node.NodeId, NodeStatus.Describe(node), stage?.SnapshotsPublished ?? 0);
        return node.HadFailures || stageFailed ? 3 : 0;
    }
}
