using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Tests;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>
/// The engine's user shard against the independent <see cref="ReferenceModel"/> over generated logs,
/// without Kafka or a database: plain runs, runs that passivate everything, and runs that "crash" and
/// restart from their last checkpoint (re-emitting outputs that downstream de-duplicates by id).
/// </summary>
public sealed class UserShardReferenceTests
{
    private const int Partitions = 3;

    // A short grace (30 s) against the generator's out-of-order lag (≤ 60 s) makes some events late.
    private static readonly ShardOptions Options = new()
    {
        Sessions = new SessionOptions { Grace = TimeSpan.FromSeconds(30), MaxLength = TimeSpan.FromHours(1) },
    };

    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));

    private static PartitionedLog Log(long seed, int count = 20_000, int users = 200) =>
        new(new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = users, BadRecordShare = 0.02 }).Generate(count), Partitions);

    private static ReferenceModel Reference(PartitionedLog log)
    {
        var reference = new ReferenceModel(ReferenceSettings.From(Options), Catalog);
        foreach (var p in log.Partitions) reference.RunPartition(p.Select(x => x.Log));
        return reference;
    }

    [Fact]
    public void Process_GeneratedLog_EqualsReferenceModel()
    {
        var log = Log(seed: 1);
        var output = new ListShardOutput();
        for (var p = 0; p < Partitions; p++)
        {
            var shard = new UserShard(p, Options, Catalog, output);
            foreach (var (input, _) in log.Partitions[p]) shard.Process(input);
        }
        var reference = Reference(log);
        var engine = OutputComparison.ByUser(output.Records);
        Assert.True(reference.Outputs.Values.Sum(v => v.Count) > 2_000, "the log should produce plenty of outputs");
        Assert.Contains(reference.Outputs.Values.SelectMany(v => v), s => s.EndsWith(" reevaluation"));
        Assert.Contains(reference.DeadLetters.Values, r => r == "late_event");
        OutputAssert.Same(reference.Outputs, engine);
        var deadLetters = output.Records.OfType<DeadLetter>().ToDictionary(d => (d.Source.Partition, d.Source.Offset), d => d.Reason.Code());
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
    }

    [Theory]
    [InlineData(2, 997, false)]
    [InlineData(3, 2_503, true)]
    public void Process_WithPassivationAndCrashRestarts_EqualsReference(long seed, int crashEvery, bool passivateEverything)
    {
        var log = Log(seed);
        var output = new ListShardOutput();
        var random = new Random((int)seed);
        for (var p = 0; p < Partitions; p++)
        {
            var state = new MemoryPartitionState();
            var shard = state.Restore(p, Options, Catalog, output);
            var records = log.Partitions[p];
            var offset = 0;
            var sinceCrash = 0;
            while (offset < records.Count)
            {
                shard.CurrentTick++;
                shard.Process(records[offset].Input);
                offset++;
                sinceCrash++;
                if (random.Next(200) == 0)
                {
                    state.Commit(shard, offset);
                    if (passivateEverything) shard.Passivate(long.MaxValue);
                }
                if (sinceCrash >= crashEvery)
                {
                    // Crash: everything since the last checkpoint is lost; replay from the stored offset.
                    shard = state.Restore(p, Options, Catalog, output);
                    offset = (int)state.NextOffset;
                    sinceCrash = 0;
                }
            }
        }
        OutputAssert.Same(Reference(log).Outputs, OutputComparison.ByUser(output.Records));
    }
}
