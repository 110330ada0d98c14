using System.Diagnostics;
using System.Text;
using Spectre.Console;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary>(a) Decoded events through the user-entity logic of one shard on one thread: no Kafka, no database.</summary>
internal static class EngineBenchmark
{
    /// <returns>Engine-only events per second.</returns>
    public static double Run(NodeSettings settings, int events, Table table)
    {
        var catalog = settings.LoadCatalog();
        var decoded = Decode(events, users: 50_000, out var decodeRate, out var generateRate);
        table.AddRow("generator", $"{generateRate:N0} records/s", "");
        table.AddRow("decode + validate (1 thread)", $"{decodeRate:N0} records/s", "");
        // Warm-up pass so the timed pass measures steady-state code, not the JIT.
        RunShard(settings, catalog, decoded.Take(200_000));
        var (elapsed, outputs) = RunShard(settings, catalog, decoded);
        var rate = decoded.Count / elapsed.TotalSeconds;
        table.AddRow($"(a) engine-only, {decoded.Count:N0} events, {outputs:N0} outputs", $"[bold]{rate:N0} events/s[/] (1 thread)", rate >= 1_000_000 ? "≥ 1,000,000/s per core: [green]met[/]" : "≥ 1,000,000/s per core: [red]not met[/]");
        return rate;
    }

    private static (TimeSpan Elapsed, long Outputs) RunShard(NodeSettings settings, Core.Segments.SegmentCatalog catalog, IEnumerable<ClickEvent> events)
    {
        var sink = new CountingOutput();
        var shard = new UserShard(0, settings.Shards, catalog, sink);
        var sw = Stopwatch.StartNew();
        foreach (var e in events) shard.ProcessEvent(e);
        sw.Stop();
        return (sw.Elapsed, sink.Count);
    }

    internal static List<ClickEvent> Decode(int count, int users, out double decodeRate, out double generateRate)
    {
        var sw = Stopwatch.StartNew();
        var records = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Users = users, BadRecordShare = 0 }).Generate(count).ToList();
        generateRate = count / sw.Elapsed.TotalSeconds;
        var decoder = new EventDecoder(new DecoderOptions());
        var result = new List<ClickEvent>(count);
        sw.Restart();
        foreach (var r in records)
        {
            var d = decoder.Decode(r.Key is null ? default : Encoding.UTF8.GetBytes(r.Key), r.Value, r.TimestampMs, "bench");
            if (d.Event is { } e) result.Add(e);
        }
        decodeRate = count / sw.Elapsed.TotalSeconds;
        return result;
    }

    private sealed class CountingOutput : IShardOutput
    {
        public long Count;

        public void Emit(ShardOutput record) => Count++;
    }
}
