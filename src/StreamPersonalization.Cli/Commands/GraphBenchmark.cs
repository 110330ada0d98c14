using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Spectre.Console;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Hocon;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Users;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// (a″) Records through the ingest graph without Kafka: partition events as the Kafka source emits them (batches of
/// 2,000) into <see cref="PartitionRoundsStage"/>, rounds to sharded user actors on a one-node cluster that load
/// their rows from SQLite, checkpoints committed to SQLite (rows, shard state, offsets), outputs acknowledged as soon
/// as the stage emits them (no broker). Ends when every partition has taken its last checkpoint on revoke.
/// </summary>
internal static class GraphBenchmark
{
    public static async Task RunAsync(NodeSettings settings, int records, int partitions, int roundRecords, Table table)
    {
        var catalog = settings.LoadCatalog();
        var logs = ActorBenchmark.Logs(records, partitions, users: 50_000);
        var overrides = new Dictionary<string, string>
        {
            ["akka.remote.dot-netty.tcp.hostname"] = "127.0.0.1", ["akka.remote.dot-netty.tcp.port"] = "0", ["akka.cluster.seed-nodes"] = "",
            ["akka.loglevel"] = "WARNING",
        };
        var dir = Path.Combine(Path.GetTempPath(), "sp-bench-graph-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        var system = await NodeActorSystem.StartAsync("sp-bench", AkkaConfigLoader.Load(settings.Akka, overrides, _ => null));
        try
        {
            var up = new TaskCompletionSource();
            Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var loader = new SwitchableLoader();
            var region = await UserSharding.StartAsync(system, new UserActorSettings(new UserProcessor(settings.Shards, catalog), null, loader, TimeSpan.Zero));
            for (var p = 0; p < partitions; p++) await UserSharding.PlaceAsync(system, p, Akka.Cluster.Cluster.Get(system).SelfAddress);
            var users = new UserRoundClient(system, region, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(2));

            await RunOnce(system, logs.Select(l => l.Take(Math.Min(l.Count, 20_000)).ToList()).ToArray(), settings.Shards, users, loader, Path.Combine(dir, "warm.db"), roundRecords);   // JIT, actors
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var checkpoints = await RunOnce(system, logs, settings.Shards, users, loader, Path.Combine(dir, "run.db"), roundRecords);
            sw.Stop();
            var total = logs.Sum(l => l.Count);
            var rate = total / sw.Elapsed.TotalSeconds;
            var cores = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / sw.Elapsed.TotalSeconds;
            table.AddRow($"(a″) ingest graph, no Kafka: {total:N0} records, {partitions} partitions, rounds of ≤ {roundRecords:N0}, SQLite checkpoints",
                $"[bold]{rate:N0} records/s[/] ({checkpoints:N0} checkpoints; {cores:F2} cores busy)",
                rate >= 1_000_000 ? "≥ 1,000,000/s per node: [green]met[/]" : "≥ 1,000,000/s per node: [red]not met[/]");
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<int> RunOnce(ActorSystem system, List<InputRecord>[] logs, ShardOptions options, IUserRounds users, SwitchableLoader loader, string path, int roundRecords)
    {
        await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
        await store.InitializeAsync();
        loader.Inner = new CheckpointStoreUserStateLoader(store);
        var events = new List<PartitionEvent>();
        for (var p = 0; p < logs.Length; p++) events.Add(new PartitionAssigned(p, null));
        // Interleaved as one consumer would emit them.
        var batches = logs.Select((log, p) => log.Chunk(2_000).Select(chunk => new PartitionRecords(p, chunk.Select(r => ToConsumeResult(r)).ToList())).ToList()).ToList();
        for (var i = 0; batches.Any(b => i < b.Count); i++)
            foreach (var b in batches.Where(b => i < b.Count)) events.Add(b[i]);
        for (var p = 0; p < logs.Length; p++) events.Add(new PartitionRevoked(p));
        var checkpoints = 0;
        var stage = new PartitionRoundsStage("clickstream", p => new PartitionRounds(p, options, experiments: false), store, users,
            new PartitionRoundsOptions { MaxRoundRecords = roundRecords }, committed: (_, _) => checkpoints++);
        await Source.From(events).Via(stage).Select(o => { o.Acknowledge(); return o; }).RunWith(Sink.Ignore<RoundOutputs>(), system.Materializer());
        return checkpoints;
    }

    private static ConsumeResult<byte[], byte[]> ToConsumeResult(InputRecord r) => new()
    {
        Topic = r.Topic, Partition = new Partition(r.Partition), Offset = new Offset(r.Offset),
        Message = new Message<byte[], byte[]> { Key = r.Key!, Value = r.Value, Timestamp = new Timestamp(r.TimestampMs, TimestampType.CreateTime) },
    };

    /// <summary>The region's loader, pointed at each run's store.</summary>
    private sealed class SwitchableLoader : IUserStateLoader
    {
        public IUserStateLoader Inner { get; set; } = null!;

        public Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default) => Inner.LoadAsync(partition, key, expectedNextOffset, ct);
    }
}
