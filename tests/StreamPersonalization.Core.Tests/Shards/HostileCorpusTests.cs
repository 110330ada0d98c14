using System.Text;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Tests;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>
/// The hostile corpus (≥ 10,000 malformed records mixed into valid traffic) through user shards: every hostile record is
/// rejected with the reason the generator labelled it with, and the valid results equal the independent reference model.
/// </summary>
public sealed class HostileCorpusTests
{
    private const int Partitions = 3;
    private static readonly ShardOptions Options = new();   // grace 5 min: the generator's valid traffic is never late
    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));

    private static readonly HostileCorpusOptions Corpus = new()
    {
        Traffic = new ClickstreamGeneratorOptions { Seed = 77, Users = 200 },
        ValidRecords = 12_000,
        HostileRecords = 10_400,   // ~2.5 % of the kinds are odd but valid: ≥ 10,000 malformed
    };

    private static readonly Lazy<List<HostileRecord>> Records = new(() => new HostileCorpusGenerator(Corpus).Generate().ToList());

    /// <summary>The corpus split into partitions, with each position's label.</summary>
    private static (PartitionedLog Log, Dictionary<(int, long), HostileRecord> Labels) Partitioned()
    {
        var records = Records.Value;
        var log = new PartitionedLog(records.Select(r => r.Record), Partitions);
        var labels = new Dictionary<(int, long), HostileRecord>();
        var next = new long[Partitions];
        var partitionOf = log.Partitions.SelectMany(p => p).Where(x => x.Input.Key is not null)
            .GroupBy(x => Encoding.UTF8.GetString(x.Input.Key!)).ToDictionary(g => g.Key, g => g.First().Input.Partition);
        foreach (var r in records)
        {
            var p = r.Record.Key is null ? 0 : partitionOf[r.Record.Key];
            labels[(p, next[p]++)] = r;
        }
        return (log, labels);
    }

    [Fact]
    public void Generate_CountsKindsAndDeterminism()
    {
        var records = Records.Value;
        Assert.Equal(Corpus.ValidRecords + Corpus.HostileRecords, records.Count);
        Assert.Equal(Corpus.HostileRecords, records.Count(r => r.Kind is not null));
        Assert.True(records.Take(Corpus.WarmUpRecords).All(r => r.Kind is null), "the warm-up is regular traffic only");
        var kinds = records.Where(r => r.Kind is not null).GroupBy(r => r.Kind!.Value).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(Enum.GetValues<HostileKind>(), k => Assert.True(kinds.GetValueOrDefault(k) > 0, $"kind {k} never generated"));
        Assert.True(records.Count(r => r.Expected is not null) >= 10_000, "at least 10,000 malformed records");
        Assert.Equal(kinds[HostileKind.EventIdOfOtherUser] + kinds[HostileKind.LargeButAccepted], records.Count(r => r.Kind is not null && r.Expected is null));
        // The classic kinds are the generator's own bad records, mapped by name.
        Assert.Equal(Enum.GetNames<BadRecordKind>(), Enum.GetValues<HostileKind>().Where(k => k.Classic() is not null).Select(k => k.ToString()));
        var again = new HostileCorpusGenerator(Corpus).Generate().Take(3_000).ToList();
        Assert.True(again.Zip(records).All(x => x.First.Record.Value.SequenceEqual(x.Second.Record.Value) && x.First.Record.Key == x.Second.Record.Key
            && x.First.Record.TimestampMs == x.Second.Record.TimestampMs && x.First.Kind == x.Second.Kind), "same options, same records");
        var other = new HostileCorpusGenerator(Corpus with { Traffic = Corpus.Traffic with { Seed = 78 } }).Generate().Take(3_000);
        Assert.False(other.Zip(records).All(x => x.First.Record.Value.SequenceEqual(x.Second.Record.Value)));
    }

    [Fact]
    public void Decode_EveryCorpusRecord_AgreesWithItsDecodeLabel()
    {
        var decoder = new EventDecoder(new DecoderOptions());
        foreach (var r in Records.Value)
        {
            var key = r.Record.Key is null ? [] : Encoding.UTF8.GetBytes(r.Record.Key);
            var d = decoder.Decode(key, r.Record.Value, r.Record.TimestampMs, "x");
            var expected = r.Kind?.DecodeReason();
            Assert.Equal(r.Record.ExpectedReject, expected);
            Assert.True(d.IsValid == expected is null && (d.IsValid || d.Reason == expected), $"{r}: decoder said {d}");
        }
    }

    [Fact]
    public void Shard_HostileCorpus_RejectsEachWithItsLabelAndValidResultsEqualReference()
    {
        var (log, labels) = Partitioned();
        var output = new ListShardOutput();
        var counters = new List<ShardCounters>();
        for (var p = 0; p < Partitions; p++)
        {
            var shard = new UserShard(p, Options, Catalog, output);
            foreach (var (input, _) in log.Partitions[p]) shard.Process(input);
            counters.Add(shard.Counters);
        }
        AssertAgainstLabelsAndReference(log, labels, output.Records);
        // The exactly-once counters say the same, reason by reason.
        var expectedByReason = labels.Values.Where(l => l.Expected is not null).GroupBy(l => l.Expected!.Value).ToDictionary(g => g.Key, g => (long)g.Count());
        foreach (var reason in Enum.GetValues<RejectReason>())
            Assert.True(expectedByReason.GetValueOrDefault(reason) == counters.Sum(c => c.Rejected[(int)reason]), $"counter {reason.Code()}");
    }

    [Fact]
    public void Shard_HostileCorpusWithCrashesAndPassivation_EqualsReference()
    {
        // Duplicate detection survives passivation and replay: the remembered ids are part of the entity's stored state.
        var (log, labels) = Partitioned();
        var output = new ListShardOutput();
        var random = new Random(3);
        for (var p = 0; p < Partitions; p++)
        {
            var state = new MemoryPartitionState();
            var shard = state.Restore(p, Options, Catalog, output);
            var records = log.Partitions[p];
            int offset = 0, sinceCrash = 0;
            while (offset < records.Count)
            {
                shard.Process(records[offset++].Input);
                if (random.Next(100) == 0) { state.Commit(shard, offset); shard.Passivate(long.MaxValue); }
                if (++sinceCrash >= 1_499)
                {
                    shard = state.Restore(p, Options, Catalog, output);
                    offset = (int)state.NextOffset;
                    sinceCrash = 0;
                }
            }
        }
        AssertAgainstLabelsAndReference(log, labels, output.Records);
    }

    private static void AssertAgainstLabelsAndReference(PartitionedLog log, Dictionary<(int, long), HostileRecord> labels, IReadOnlyList<ShardOutput> outputs)
    {
        var deadLetters = new Dictionary<(int, long), string>();
        foreach (var d in outputs.OfType<DeadLetter>())
        {
            var key = (d.Source.Partition, d.Source.Offset);
            Assert.True(!deadLetters.TryGetValue(key, out var earlier) || earlier == d.Reason.Code());
            deadLetters[key] = d.Reason.Code();
        }
        // Every labelled record is rejected with its label, and nothing else is rejected.
        foreach (var (position, label) in labels)
        {
            var got = deadLetters.GetValueOrDefault(position);
            Assert.True(label.Expected?.Code() == got, $"{position} {label}: dead letter {got ?? "none"}");
        }
        Assert.Equal(labels.Count(l => l.Value.Expected is not null), deadLetters.Count);
        Assert.Contains(deadLetters.Values, r => r == "duplicate_event");
        Assert.Contains(deadLetters.Values, r => r == "late_event");

        var reference = new ReferenceModel(ReferenceSettings.From(Options), Catalog);
        foreach (var p in log.Partitions) reference.RunPartition(p.Select(x => x.Log));
        Assert.Equal(reference.DeadLetters.OrderBy(kv => kv.Key), deadLetters.OrderBy(kv => kv.Key));
        Assert.True(reference.Outputs.Values.Sum(v => v.Count) > 1_000, "the valid traffic should produce plenty of outputs");
        OutputAssert.Same(reference.Outputs, OutputComparison.ByUser(outputs));
    }
}
