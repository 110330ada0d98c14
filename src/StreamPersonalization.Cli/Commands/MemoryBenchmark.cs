using System.Text;
using Spectre.Console;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// (c) Managed heap growth per resident user entity: generated traffic flows through one shard until it
/// holds the target number of users (open sessions, day buckets, memberships, timers); full collections
/// before and after. Everything the shard holds (dictionary, timer queue, string pool) is counted.
/// </summary>
internal static class MemoryBenchmark
{
    public static void Run(NodeSettings settings, int users, Table table)
    {
        var catalog = settings.LoadCatalog();
        var decoder = new EventDecoder(new DecoderOptions());
        var generator = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Users = users * 2, BadRecordShare = 0 });
        var before = Measure();
        var shard = new UserShard(0, settings.Shards, catalog, new DiscardOutput());
        long events = 0;
        foreach (var r in generator.Generate(long.MaxValue))
        {
            var d = decoder.Decode(Encoding.UTF8.GetBytes(r.Key!), r.Value, r.TimestampMs, "bench");
            shard.ProcessEvent(d.Event!);
            events++;
            if (shard.ResidentEntities >= users) break;
        }
        var after = Measure();
        var perUser = (after - before) / (double)shard.ResidentEntities;
        table.AddRow($"(c) resident bytes per user entity ({shard.ResidentEntities:N0} users after {events:N0} events)",
            $"[bold]{perUser:N0} B[/] (incl. dictionary, timer queue)", perUser <= 1024 ? "≤ 1 KB: [green]met[/]" : "≤ 1 KB: [red]not met[/]");
        GC.KeepAlive(shard);
    }

    private static long Measure()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private sealed class DiscardOutput : IShardOutput
    {
        public void Emit(ShardOutput record) { }
    }
}
