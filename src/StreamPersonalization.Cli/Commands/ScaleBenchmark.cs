using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Spectre.Console;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>sp bench --only scale</c>: node <i>processes</i> (<c>sp run</c>) against the embedded Kafka of the benchmark
/// process and one shared store (PostgreSQL from <c>--postgres</c>, else one SQLite file):
/// (1) end-to-end records/s of 1, 2 and 3 nodes over the same pre-produced log, from the first partition assignment
/// to the checkpoint covering the last record; (2) from a node's SIGKILL, under steady input, until every partition
/// it owned has been checkpointed further by the survivors; (3) from starting a fresh node until its <c>/readyz</c>
/// answers 200, with 100,000 users stored. Figures, not assertions.
/// </summary>
internal static class ScaleBenchmark
{
    public static readonly Option<string?> Postgres = new("--postgres") { Description = "PostgreSQL connection string for the scale benchmark (each run gets its own schema); without it the nodes share one SQLite file." };
    public static readonly Option<int> Records = new("--scale-records") { Description = "Records of the pre-produced log for the scale benchmark.", DefaultValueFactory = _ => 400_000 };
    public static readonly Option<TimeSpan?> SessionTimeout = new("--scale-session-timeout") { Description = "Kafka:SessionTimeout of the scale benchmark's nodes (default: the node default, 6 s); bounds the failover figure." };
    public static readonly Option<int> ReadyUsers = new("--scale-ready-users") { Description = "Stored users before the readiness measurement of the scale benchmark.", DefaultValueFactory = _ => 100_000 };

    private const int Partitions = 24;           // the mock keeps ≤ 5 MB per partition: 400,000 records fit in 24
    private const int SteadyRate = 6_000;        // records/s of new input while a node is killed
    private static TimeSpan s_sessionTimeout;

    public static async Task RunAsync(ParseResult parse, Table table, CancellationToken ct)
    {
        var postgres = parse.GetValue(Postgres);
        var records = parse.GetValue(Records);
        s_sessionTimeout = parse.GetValue(SessionTimeout) ?? new KafkaOptions().SessionTimeout;
        using var cluster = EmbeddedKafkaCluster.Start(brokers: 1);
        var dir = Directory.CreateTempSubdirectory("sp-bench-scale-").FullName;
        var clock = Stopwatch.StartNew();
        try
        {
            var input = "bench-scale-clickstream";
            cluster.CreateTopic(input, Partitions);
            var produceTime = Produce(cluster, input, new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = 7, Users = 50_000 }).Generate(records), 0);
            table.AddRow($"scale: {records:N0} records pre-produced ({Partitions} partitions)", $"{records / produceTime.TotalSeconds:N0} records/s", "");
            for (var nodes = 1; nodes <= 3; nodes++)
                await ThroughputAsync(cluster, input, records, nodes, postgres, dir, clock, table, ct);
            await ReadinessAsync(cluster, parse.GetValue(ReadyUsers), postgres, dir, clock, table, ct);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// (1), and for 3 nodes also (2): <paramref name="nodes"/> processes in a new group over the whole log. The nodes
    /// are started together so that they join in one rebalance round; when one misses it (a slow start on a busy
    /// machine) the others would work alone until a later round, so the attempt is dropped and repeated (at most 3).
    /// </summary>
    private static async Task ThroughputAsync(EmbeddedKafkaCluster cluster, string input, long records, int nodes, string? postgres, string dir, Stopwatch clock, Table table, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var name = $"scale-{nodes}-{attempt}";
            CreateOutputTopics(cluster, name);
            await using var store = await BenchStore.CreateAsync(postgres, dir, name);
            var processes = Enumerable.Range(1, nodes).Select(i => BenchNodeProcess.Start($"n{i}", NodeArgs(cluster, input, name, $"n{i}", dir, store, "none"), clock)).ToList();
            try
            {
                var started = clock.Elapsed;
                await UntilAsync(() => Task.FromResult(processes.Any(p => p.FirstAssigned is not null)), processes, TimeSpan.FromMinutes(2), ct);
                var first = processes.Min(p => p.FirstAssigned)!.Value;
                var oneRound = true;
                try { await UntilAsync(() => Task.FromResult(processes.All(p => p.FirstAssigned is not null)), processes, TimeSpan.FromSeconds(2), ct); }
                catch (TimeoutException) { oneRound = false; }
                if (!oneRound && attempt < 3) continue;   // disposing kills the processes and drops the store

                await UntilAsync(async () => await store.CheckpointedAsync(ct) >= records, processes, TimeSpan.FromMinutes(5), ct);
                var done = clock.Elapsed;
                var rate = records / (done - first).TotalSeconds;
                table.AddRow($"scale: {nodes} node process{(nodes > 1 ? "es" : "")}, {records:N0} records, {store.Description}",
                    $"[bold]{rate:N0} records/s[/] ({(done - first).TotalSeconds:F1} s from the first assignment)",
                    $"start → first assignment {(first - started).TotalSeconds:F1} s; " +
                    (oneRound ? $"all joined in one round{(attempt > 1 ? $" (attempt {attempt})" : "")}" : "a node joined late in all 3 attempts: includes a rebalance"));
                if (nodes == 3) await FailoverAsync(cluster, input, processes, store, clock, table, ct);
                return;
            }
            finally
            {
                foreach (var p in processes) p.Terminate(TimeSpan.FromSeconds(40));
                foreach (var p in processes) p.Dispose();
            }
        }
    }

    /// <summary>(2): under steady input, SIGKILL the node owning the most partitions; time until each of its partitions is checkpointed further.</summary>
    private static async Task FailoverAsync(EmbeddedKafkaCluster cluster, string input, List<BenchNodeProcess> processes, BenchStore store, Stopwatch clock, Table table, CancellationToken ct)
    {
        using var stopProducing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var generator = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = 8, Users = 50_000 });
        var producing = Task.Run(() => Produce(cluster, input, generator.Generate(long.MaxValue), SteadyRate, stopProducing.Token), CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(5), ct);   // steady state: every partition receives records and checkpoints
            var victim = processes.OrderByDescending(p => p.Owned.Count).First();
            var partitions = victim.Owned.ToList();
            var before = await store.OffsetsAsync(ct);
            var killed = clock.Elapsed;
            victim.Kill();
            var resumed = new Dictionary<int, TimeSpan>();
            var survivors = processes.Where(p => p != victim).ToList();
            await UntilAsync(async () =>
            {
                var now = await store.OffsetsAsync(ct);
                foreach (var p in partitions)
                    if (!resumed.ContainsKey(p) && now.GetValueOrDefault(p) > before.GetValueOrDefault(p)) resumed[p] = clock.Elapsed - killed;
                return resumed.Count == partitions.Count;
            }, survivors, TimeSpan.FromMinutes(3), ct);
            table.AddRow($"scale: SIGKILL of 1 of 3 nodes ({partitions.Count} partitions) under {SteadyRate:N0} records/s → its partitions checkpointed again on the survivors",
                $"[bold]{resumed.Values.Max().TotalSeconds:F1} s[/] (first partition after {resumed.Values.Min().TotalSeconds:F1} s)",
                $"Kafka:SessionTimeout {s_sessionTimeout.TotalSeconds:F0} s until the mock drops the member, + its join window (session timeout − 1 s)");
        }
        finally
        {
            stopProducing.Cancel();
            await producing;
        }
    }

    /// <summary>(3): a node stores <paramref name="users"/> users (one event each) and stops; a fresh node's time to /readyz.</summary>
    private static async Task ReadinessAsync(EmbeddedKafkaCluster cluster, int users, string? postgres, string dir, Stopwatch clock, Table table, CancellationToken ct)
    {
        var input = "bench-ready-clickstream";
        cluster.CreateTopic(input, Partitions);
        Produce(cluster, input, OneEventPerUser(users), 0);
        CreateOutputTopics(cluster, "ready");
        await using var store = await BenchStore.CreateAsync(postgres, dir, "ready");
        using (var loader = BenchNodeProcess.Start("loader", NodeArgs(cluster, input, "ready", "loader", dir, store, "none"), clock))
        {
            await UntilAsync(async () => await store.CheckpointedAsync(ct) >= users, [loader], TimeSpan.FromMinutes(5), ct);
            loader.Terminate(TimeSpan.FromSeconds(40));
        }
        var stored = await store.CountEntitiesAsync(ct);
        // What a starting shard reads before it runs, timed on its own: checkpoint and pending timers of every partition.
        var loading = Stopwatch.StartNew();
        var timers = 0;
        for (var p = 0; p < Partitions; p++)
        {
            await store.Store.LoadCheckpointAsync(Node.StreamNode.Scope, p, ct);
            timers += (await store.Store.LoadTimersAsync(Node.StreamNode.Scope, p, ct)).Count;
        }
        var loadTime = loading.Elapsed;

        var port = FreePort();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = clock.Elapsed;
        // A group of its own: the loader, a static member, does not leave its group when it stops (a fresh node in that
        // group would first wait for the loader's session to expire, which is not what this measures).
        using var fresh = BenchNodeProcess.Start("fresh", [.. NodeArgs(cluster, input, "ready", "fresh", dir, store, $"http://127.0.0.1:{port}"), "--set", "Node:GroupId=bench-ready-fresh"], clock);
        try
        {
            await UntilAsync(async () =>
            {
                try { return (await http.GetAsync($"http://127.0.0.1:{port}/readyz", ct)).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
            }, [fresh], TimeSpan.FromMinutes(3), ct);
            var ready = clock.Elapsed - started;
            var subscribed = (fresh.Subscribed ?? clock.Elapsed) - started;
            var assigned = (fresh.FirstAssigned ?? clock.Elapsed) - started;
            table.AddRow($"scale: fresh node → /readyz 200 with {stored:N0} stored users ({Partitions} partitions, {store.Description})",
                $"[bold]{ready.TotalSeconds:F1} s[/] from process start",
                $"process start → subscribed {subscribed.TotalSeconds:F1} s; → partitions assigned and loaded {assigned.TotalSeconds:F1} s; " +
                $"loading all {Partitions} checkpoints + {timers:N0} timers alone: {loadTime.TotalSeconds:F2} s");
        }
        finally
        {
            fresh.Terminate(TimeSpan.FromSeconds(40));
        }
    }

    /// <summary>Arguments of one node: topics named after the run, its own data directory and HTTP listener.</summary>
    private static IEnumerable<string> NodeArgs(EmbeddedKafkaCluster cluster, string input, string run, string nodeId, string dir, BenchStore store, string urls) =>
    [
        "--bootstrap", cluster.BootstrapServers, "--node-id", $"{run}-{nodeId}", "--data-dir", Path.Combine(dir, run, nodeId), "--urls", urls,
        .. store.NodeArgs,
        "--set", $"Kafka:ClickstreamTopic={input}", "--set", $"Kafka:SessionsTopic={run}-sessions", "--set", $"Kafka:SegmentChangesTopic={run}-segments",
        "--set", $"Kafka:DeadLetterTopic={run}-dlq", "--set", $"Kafka:ExperimentStatsTopic={run}-xstats", "--set", $"Kafka:ExperimentStateTopic={run}-xstate",
        "--set", $"Kafka:AlertsTopic={run}-alerts", "--set", $"Node:GroupId=bench-{run}", "--set", $"Node:ExperimentsGroupId=bench-{run}-experiments",
        "--set", $"Kafka:SessionTimeout={s_sessionTimeout:c}",
    ];

    private static void CreateOutputTopics(EmbeddedKafkaCluster cluster, string run)
    {
        foreach (var suffix in new[] { "sessions", "segments", "dlq", "xstats", "xstate", "alerts" }) cluster.CreateTopic($"{run}-{suffix}", Partitions);
    }

    private static TimeSpan Produce(EmbeddedKafkaCluster cluster, string topic, IEnumerable<SyntheticRecord> records, double rate, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        using var producer = SyntheticProducer.CreateBulkProducer(cluster.BootstrapServers);
        new SyntheticProducer(producer, topic).Produce(records, rate, null, ct);
        return sw.Elapsed;
    }

    /// <summary>One valid page view for each of <paramref name="users"/> users (ids r000001…), 10 ms apart in event time.</summary>
    private static IEnumerable<SyntheticRecord> OneEventPerUser(int users)
    {
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        for (var i = 1; i <= users; i++)
        {
            var ts = start + i * 10L;
            var user = $"r{i:D6}";
            var json = $$"""{"event_id":"ready-{{i}}","user_id":"{{user}}","type":"page_view","ts":"{{DateTimeOffset.FromUnixTimeMilliseconds(ts):yyyy-MM-ddTHH:mm:ss.fffZ}}","page":"/p/{{i % 50}}","device":"mobile","country":"DE"}""";
            yield return new SyntheticRecord(user, Encoding.UTF8.GetBytes(json), ts, null);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls <paramref name="done"/> every 50 ms; fails if a node exits or <paramref name="timeout"/> passes.</summary>
    private static async Task UntilAsync(Func<Task<bool>> done, IReadOnlyList<BenchNodeProcess> nodes, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (nodes.FirstOrDefault(n => n.HasExited) is { } exited) throw new InvalidOperationException($"node {exited.Id} exited:\n{exited.Tail}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not done within {timeout}; last lines of {nodes[0].Id}:\n{nodes[0].Tail}");
            await Task.Delay(50, ct);
        }
    }
}
