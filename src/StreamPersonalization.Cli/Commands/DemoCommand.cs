using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>sp demo</c>: everything embedded in one process: the mock Kafka cluster, a fresh SQLite store
/// (data/demo.db, recreated because the embedded log is new), the node, and the generator. Prints
/// live throughput, segment sizes and recent transitions read back from <c>segment-changes</c>.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var set = CommonOptions.Set();
        var duration = CommonOptions.Duration("Stop by itself after this long. Default: run until Ctrl-C.");
        var rate = new Option<double>("--rate") { Description = "Generated records per second (0 = as fast as possible).", DefaultValueFactory = _ => 20_000 };
        var users = new Option<int>("--users") { Description = "Simulated users.", DefaultValueFactory = _ => 5_000 };
        var seed = new Option<long>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => 42 };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level of the node.", DefaultValueFactory = _ => LogLevel.Warning };
        var urls = new Option<string?>("--urls") { Description = "HTTP listener for the /v1 API and health (Http:Urls), default http://127.0.0.1:8080; \"none\" disables it." };
        var akka = CommonOptions.AkkaOptions(defaultPort: 0);
        var command = new Command("demo", "Run everything embedded (Kafka mock cluster, SQLite, a one-node Akka cluster, node, generator) and show live figures.")
        {
            config, set, duration, rate, users, seed, logLevel, urls, akka.Host, akka.Port, akka.Seeds,
        };
        command.SetAction(async (parse, ct) =>
        {
            var overrides = CommonOptions.Overrides(parse.GetValue(set));
            if (parse.GetValue(urls) is { } u) overrides["Http:Urls"] = u;
            if (!StartupErrors.TryLoad(() =>
                {
                    var loaded = NodeSettings.Load(parse.GetValue(config), overrides);
                    return (loaded with { Sqlite = new() { Path = Path.Combine(loaded.Node.DataDirectory, "demo.db") }, StorageProvider = "sqlite" })
                        .Validate(embeddedKafka: true);
                }, out var settings) || !StartupErrors.TryLoadAkka(settings, akka.Overrides(parse), out var akkaConfig))
                return StartupErrors.ConfigurationError;
            Directory.CreateDirectory(settings.Node.DataDirectory);
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(settings.Sqlite.Path + suffix);
            var generator = new ClickstreamGeneratorOptions { Users = parse.GetValue(users), Seed = parse.GetValue(seed) };
            generator.Validate();
            using var loggers = Logging.Create(parse.GetValue(logLevel));
            using var signal = new ShutdownSignal(ct);
            return await RunAsync(settings, akkaConfig, generator, parse.GetValue(rate), parse.GetValue(duration), loggers, signal.Token);
        });
        return command;
    }

    private static async Task<int> RunAsync(NodeSettings settings, Akka.Configuration.Config akkaConfig, ClickstreamGeneratorOptions generator, double rate, TimeSpan? duration, ILoggerFactory loggers, CancellationToken ct)
    {
        AnsiConsole.MarkupLine("[bold]StreamPersonalization demo[/]: starting embedded Kafka…");
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 3);
        var kafka = settings.Kafka with { BootstrapServers = cluster.BootstrapServers };
        foreach (var topic in new[] { kafka.ClickstreamTopic, kafka.SessionsTopic, kafka.SegmentChangesTopic, kafka.DeadLetterTopic, kafka.ExperimentStatsTopic, kafka.ExperimentStateTopic, kafka.AlertsTopic, kafka.CohortMetricsTopic })
            cluster.CreateTopic(topic, kafka.EmbeddedPartitions);
        AnsiConsole.MarkupLine($"Kafka at [blue]{cluster.BootstrapServers}[/], {kafka.EmbeddedPartitions} partitions; store [blue]{settings.Sqlite.Path}[/]");

        var catalog = settings.LoadCatalog();
        await using var store = settings.CreateStore();
        using var pseudonymizer = settings.Privacy.CreatePseudonymizer();
        var shardOptions = settings.Shards with { Privacy = settings.Privacy.ShardPrivacy(pseudonymizer) };
        StreamNode? created = null;
        await using var runtime = await NodeRuntimeWiring.StartAsync(settings, akkaConfig, () => created, loggers, loggers.CreateLogger("sp.demo"));
        await using var wiring = await NodeWiring.CreateAsync(settings, kafka, catalog, store, shardOptions, pseudonymizer, loggers, runtime.System, ct);
        var node = created = wiring.Node;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (duration is { } d) stop.CancelAfter(d);
        var nodeTask = node.RunAsync(stop.Token);
        runtime.OnDrain("drain-user-stage", async () => { stop.Cancel(); try { await nodeTask; } catch (Exception) { } });
        var stageTask = wiring.CreateStage(settings, kafka, store, loggers)?.RunAsync(stop.Token) ?? Task.CompletedTask;
        await using var cohorts = StreamPersonalization.Node.Privacy.CohortReleaseService.Start(settings, kafka, catalog, store, loggers, stop.Token);
        await using var http = settings.Http.Disabled ? null : await HealthEndpoints.StartAsync(node, settings.Http, wiring.Serving?.Services, loggers, ct, cohorts.Releases, runtime);
        if (http is not null) AnsiConsole.MarkupLine($"HTTP API at [blue]{settings.Http.Urls.EscapeMarkup()}[/]: /v1/assignments/exp-checkout-1?user=u1, /v1/experiments/exp-checkout-1, /healthz");

        using var producer = SyntheticProducer.CreateBulkProducer(cluster.BootstrapServers);
        var publisher = new SyntheticProducer(producer, kafka.ClickstreamTopic);
        var produceTask = Task.Factory.StartNew(
            () => publisher.Produce(new ClickstreamGenerator(generator).Generate(long.MaxValue), rate, null, stop.Token),
            TaskCreationOptions.LongRunning);
        using var tally = new SegmentTally(cluster.BootstrapServers, kafka.SegmentChangesTopic, catalog);
        var tallyTask = Task.Factory.StartNew(() => tally.Run(stop.Token), TaskCreationOptions.LongRunning);

        var clock = Stopwatch.StartNew();
        long lastRecords = 0;
        var lastTime = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(1), stop.Token); } catch (OperationCanceledException) { }
            var records = node.Shards.Sum(s => s.Counters.Records);
            var now = clock.Elapsed;
            var perSecond = (records - lastRecords) / Math.Max(0.001, (now - lastTime).TotalSeconds);
            (lastRecords, lastTime) = (records, now);
            Print(node, publisher, tally, perSecond, now);
        }
        await runtime.ShutdownAsync();   // drains the node (every shard checkpoints), then leaves the cluster
        await Task.WhenAll(nodeTask, produceTask, tallyTask, stageTask);
        AnsiConsole.MarkupLine($"[bold]stopped[/] after {clock.Elapsed:hh\\:mm\\:ss}: every shard checkpointed to {settings.Sqlite.Path.EscapeMarkup()}; produced {publisher.Delivered:N0} records.");
        return node.HadFailures ? 3 : 0;
    }

    private static void Print(StreamNode node, SyntheticProducer publisher, SegmentTally tally, double perSecond, TimeSpan at)
    {
        var shards = node.Shards;
        var c = (valid: shards.Sum(s => s.Counters.ValidEvents), sessions: shards.Sum(s => s.Counters.SessionsClosed),
            transitions: shards.Sum(s => s.Counters.Transitions), late: shards.Sum(s => s.Counters.LateEvents));
        var rejected = string.Join(" ", NodeStatus.RejectedByReason(node).Select(kv => $"{kv.Key}={kv.Value}"));
        AnsiConsole.MarkupLine(
            $"[grey]{at:mm\\:ss}[/] produced [blue]{publisher.Delivered:N0}[/] processed [green]{perSecond:N0}/s[/] valid {c.valid:N0} " +
            $"sessions {c.sessions:N0} transitions {c.transitions:N0} late {c.late:N0} | rejected {rejected.EscapeMarkup()}");
        AnsiConsole.MarkupLine($"      segments: {string.Join("  ", tally.Sizes().Select(kv => $"{kv.Key}={kv.Value:N0}")).EscapeMarkup()}");
        foreach (var t in tally.Recent(3)) AnsiConsole.MarkupLine($"      [grey]{t.EscapeMarkup()}[/]");
    }
}
