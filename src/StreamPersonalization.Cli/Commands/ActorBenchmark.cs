using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Spectre.Console;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Runtime.Cluster;
using StreamPersonalization.Runtime.Hocon;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// (a′) Records through the actor runtime's user logic without Kafka or a store: each partition plans rounds of
/// <see cref="UserWork"/> (decode, late check, watermark, timers) and its users answer as sharded user actors on a
/// one-node cluster; every fourth round is a checkpoint round (states serialized, not written).
/// </summary>
internal static class ActorBenchmark
{
    private sealed class NoState : IUserStateLoader
    {
        public Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default) => Task.FromResult<byte[]?>(null);
    }

    public static async Task RunAsync(NodeSettings settings, int records, int partitions, int batch, Table table)
    {
        var catalog = settings.LoadCatalog();
        var logs = Logs(records, partitions, users: 50_000);
        var overrides = new Dictionary<string, string>
        {
            ["akka.remote.dot-netty.tcp.hostname"] = "127.0.0.1", ["akka.remote.dot-netty.tcp.port"] = "0", ["akka.cluster.seed-nodes"] = "",
            ["akka.loglevel"] = "WARNING",
        };
        var system = await NodeActorSystem.StartAsync("sp-bench", AkkaConfigLoader.Load(settings.Akka, overrides, _ => null));
        try
        {
            var up = new TaskCompletionSource();
            Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
            // What an idle one-node system costs (on 2 cores it competes with the rounds).
            var idle = Process.GetCurrentProcess().TotalProcessorTime;
            await Task.Delay(3000);
            var idleCores = (Process.GetCurrentProcess().TotalProcessorTime - idle).TotalSeconds / 3;
            var processor = new UserProcessor(settings.Shards, catalog);
            var region = await UserSharding.StartAsync(system, new UserActorSettings(processor, null, new NoState(), TimeSpan.Zero));
            for (var p = 0; p < partitions; p++) await UserSharding.PlaceAsync(system, p, Akka.Cluster.Cluster.Get(system).SelfAddress);
            var client = new UserRoundClient(system, region, TimeSpan.FromMilliseconds(10));

            await RunPartitions(logs.Select(l => l.Take(Math.Min(l.Count, 20_000)).ToList()).ToArray(), settings.Shards, client, batch);   // warm-up (JIT, actors)
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var (events, users) = await RunPartitions(logs, settings.Shards, client, batch);
            sw.Stop();
            var rate = logs.Sum(l => l.Count) / sw.Elapsed.TotalSeconds;
            var busyCores = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / sw.Elapsed.TotalSeconds;
            table.AddRow($"(a′) actor runtime: {logs.Sum(l => l.Count):N0} records, {partitions} partitions, rounds of {batch:N0}, {users:N0} user actors",
                $"[bold]{rate:N0} records/s[/] (decode included; {events:N0} user messages; {busyCores:F2} cores busy)",
                rate >= 1_000_000 ? "≥ 1,000,000/s per node: [green]met[/]" : "≥ 1,000,000/s per node: [red]not met[/]");
            var after = GC.GetTotalMemory(forceFullCollection: true);
            table.AddRow("(a′) managed heap growth per resident user actor (state + actor + shard entry)", $"{Math.Max(0, after - before) / (double)Math.Max(1, users):N0} B", "≤ 3 KB");
            sw.Restart();
            await RunWithoutActors(logs, settings.Shards, processor, batch);
            var plain = logs.Sum(l => l.Count) / sw.Elapsed.TotalSeconds;
            table.AddRow("(a′) the same rounds without actors (workers on the partition's task)", $"{plain:N0} records/s", "");
            table.AddRow("(a′) idle one-node ActorSystem (before the run)", $"{idleCores:F2} cores", "");
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }

    private static async Task<(long Messages, int Users)> RunPartitions(List<InputRecord>[] logs, ShardOptions options, UserRoundClient client, int batch) =>
        await RunPartitions(logs, options, batch, (round, epoch) => client.RunAsync(round, epoch, null));

    /// <summary>The same rounds answered by plain workers on the partition's own task: the user logic's cost without actors.</summary>
    private static Task<(long Messages, int Users)> RunWithoutActors(List<InputRecord>[] logs, ShardOptions options, UserProcessor processor, int batch)
    {
        var workers = logs.Select(_ => new Dictionary<string, UserWorker>(StringComparer.Ordinal)).ToArray();
        return RunPartitions(logs, options, batch, (round, _) =>
        {
            var mine = workers[round.Partition];
            return Task.FromResult(round.Work.Select(w =>
            {
                if (!mine.TryGetValue(w.Key, out var worker)) mine[w.Key] = worker = new UserWorker(w.Key, processor, null);
                return worker.Run(w);
            }).ToArray());
        });
    }

    private static async Task<(long Messages, int Users)> RunPartitions(List<InputRecord>[] logs, ShardOptions options, int batch, Func<PartitionRound, long, Task<UserWorkResult[]>> answer)
    {
        var epoch = Runtime.Partitions.PartitionEpoch.Next();   // newer than the warm-up's: actors refuse older epochs
        var users = new HashSet<string>[logs.Length];
        var messages = await Task.WhenAll(logs.Select(async (log, p) =>
        {
            var rounds = new PartitionRounds(p, options, experiments: false);
            long sent = 0;
            users[p] = new HashSet<string>(StringComparer.Ordinal);
            for (int from = 0, n = 0; from < log.Count; from += batch, n++)
            {
                var round = rounds.Plan(log.GetRange(from, Math.Min(batch, log.Count - from)), checkpoint: n % 4 == 3);
                var results = await answer(round, epoch);
                rounds.Complete(round, results);
                sent += round.Work.Count;
                foreach (var w in round.Work) users[p].Add(w.Key);
            }
            return sent;
        }));
        return (messages.Sum(), users.Sum(u => u.Count));
    }

    internal static List<InputRecord>[] Logs(int records, int partitions, int users)
    {
        var logs = Enumerable.Range(0, partitions).Select(_ => new List<InputRecord>()).ToArray();
        foreach (var r in new ClickstreamGenerator(new ClickstreamGeneratorOptions { Users = users, BadRecordShare = 0 }).Generate(records))
        {
            var key = Encoding.UTF8.GetBytes(r.Key!);
            var p = KeyPartitioner.PartitionOf(key, partitions);
            logs[p].Add(new InputRecord("clickstream", p, logs[p].Count, key, r.Value, r.TimestampMs));
        }
        return logs;
    }
}
