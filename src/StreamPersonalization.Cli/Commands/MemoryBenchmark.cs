using Spectre.Console;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary>(c) Managed heap growth per resident user entity, measured with full collections before and after.</summary>
internal static class MemoryBenchmark
{
    public static void Run(NodeSettings settings, int users, Table table)
    {
        var catalog = settings.LoadCatalog();
        // Activity is skewed, so generate until every simulated user has events (open sessions, day buckets).
        var events = EngineBenchmark.Decode(users * 24, users, out _, out _);
        var sink = new ListShardOutput();
        var before = Measure();
        var shard = new UserShard(0, settings.Shards, catalog, new DiscardOutput());
        foreach (var e in events) shard.ProcessEvent(e);
        var after = Measure();
        var perUser = (after - before) / (double)shard.ResidentEntities;
        table.AddRow($"(c) resident bytes per user entity ({shard.ResidentEntities:N0} users, {events.Count:N0} events)",
            $"[bold]{perUser:N0} B[/] (incl. timer queue and dictionary)", perUser <= 1024 ? "≤ 1 KB: [green]met[/]" : "≤ 1 KB: [red]not met[/]");
        GC.KeepAlive(shard);
        GC.KeepAlive(events);
        GC.KeepAlive(sink);
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
