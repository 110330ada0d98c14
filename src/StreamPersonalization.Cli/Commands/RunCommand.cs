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
        var akka = CommonOptions.AkkaOptions();
        var command = new Command("run", "Run one node: join the Akka cluster, consume clickstream, keep user entities, publish sessions and segment changes, checkpoint to the store.")
        {
            config, set, bootstrap, nodeId, dataDir, store, postgres, duration, urls, logLevel, akka.Host, akka.Port, akka.Seeds,
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
            if (!StartupErrors.TryLoad(() => NodeSettings.Load(parse.GetValue(config), overrides).Validate(embeddedKafka: false), out var settings)
                || !StartupErrors.TryLoadAkka(settings, akka.Overrides(parse), out var akkaConfig))
                return StartupErrors.ConfigurationError;
            using var loggers = Logging.Create(parse.GetValue(logLevel));
            using var signal = new ShutdownSignal(ct);
            return await RunNodeAsync(settings, akkaConfig, loggers, parse.GetValue(duration), signal.Token);
        });
        return command;
    }

    /// <summary>Exit code of a node the cluster downed (restart it; it rejoins as a new member).</summary>
    internal const int DownedExitCode = 4;

    /// <summary>
    /// The node in its cluster. SIGTERM, the end of <paramref name="duration"/> or a node that stops by itself runs
    /// CoordinatedShutdown: its drain task stops consuming and takes every shard's last checkpoint, then the node hands
    /// off its shards and leaves the cluster.
    /// </summary>
    internal static async Task<int> RunNodeAsync(NodeSettings settings, Akka.Configuration.Config akkaConfig, ILoggerFactory loggers, TimeSpan? duration, CancellationToken ct)
    {
        var log = loggers.CreateLogger("sp.run");
        var catalog = settings.LoadCatalog();
        await using var store = settings.CreateStore();
        using var pseudonymizer = settings.Privacy.CreatePseudonymizer();
        var shardOptions = settings.Shards with { Privacy = settings.Privacy.ShardPrivacy(pseudonymizer) };
        StreamNode? created = null;
        await using var runtime = await NodeRuntimeWiring.StartAsync(settings, akkaConfig, () => created, loggers, log);
        await using var wiring = await NodeWiring.CreateAsync(settings, settings.Kafka, catalog, store, shardOptions, pseudonymizer, loggers, runtime.System, ct);
        var node = created = wiring.Node;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (duration is { } d) stop.CancelAfter(d);
        log.LogInformation("Node {NodeId} starting: Kafka {Bootstrap}, store {Store}, catalog v{Version} ({Segments} segments), cluster address {Address}",
            settings.Node.NodeId, settings.Kafka.BootstrapServers, settings.StorageProvider, catalog.Version, catalog.Segments.Count, runtime.Address);
        using var consuming = new CancellationTokenSource();
        var running = node.RunAsync(consuming.Token);
        runtime.OnDrain("drain-user-stage", async () =>
        {
            consuming.Cancel();   // the node drains: every partition takes its last checkpoint, the consumer leaves the group
            try { await running; } catch (Exception ex) { log.LogError(ex, "The node failed while draining"); }
        });
        using var onStop = stop.Token.Register(() => _ = runtime.ShutdownAsync());
        var stage = wiring.CreateStage(settings, settings.Kafka, store, loggers);
        var staging = stage?.RunAsync(consuming.Token) ?? Task.CompletedTask;
        await using var cohorts = StreamPersonalization.Node.Privacy.CohortReleaseService.Start(settings, settings.Kafka, catalog, store, loggers, consuming.Token);
        await using var http = settings.Http.Disabled ? null : await HealthEndpoints.StartAsync(node, settings.Http, wiring.Serving?.Services, loggers, ct, cohorts.Releases, runtime);
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            if (!running.IsCompleted) log.LogInformation("{Status}; cluster member {Address} {Up}", NodeStatus.Describe(node), runtime.Address, runtime.SelfUp ? "Up" : "not Up");
        }
        await running;
        consuming.Cancel();
        await runtime.ShutdownAsync();   // a node that stopped by itself (fatal error) leaves the cluster too
        var stageFailed = false;
        try { await staging; }
        catch (Exception ex) { stageFailed = true; log.LogError(ex, "The experiment stage failed; it resumes from its checkpoint on restart"); }
        if (runtime.Downed)
        {
            // Unreachable for longer than the split-brain resolver's stable-after: the others took its shards.
            log.LogError("Node {NodeId} was downed by the cluster (unreachable too long, or downed by an operator); its shards moved to the surviving nodes and its last checkpoints were fenced. Restart it to rejoin. {Status}",
                settings.Node.NodeId, NodeStatus.Describe(node));
            return DownedExitCode;
        }
        log.LogInformation("Node {NodeId} stopped and left the cluster. {Status}; experiment snapshots published {Snapshots}", settings.Node.NodeId, NodeStatus.Describe(node), stage?.SnapshotsPublished ?? 0);
        return node.HadFailures || stageFailed ? 3 : 0;
    }
}
