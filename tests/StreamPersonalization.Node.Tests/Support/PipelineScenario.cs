using StreamPersonalization.Kafka;
using System.Text;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Tests;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>
/// A generated clickstream log in its own topic of the embedded cluster, with everything needed to
/// compare a run against the reference model: output topic names per run, readers, and the reference.
/// </summary>
public sealed class PipelineScenario
{
    public const int Partitions = 6;

    /// <summary>Short grace against the generator's ≤ 60 s out-of-order lag, so some events are late.</summary>
    public static readonly ShardOptions ShardOptions = new()
    {
        Sessions = new Core.Sessions.SessionOptions { Grace = TimeSpan.FromSeconds(30), MaxLength = TimeSpan.FromHours(1) },
    };

    public static readonly SegmentCatalog Catalog = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));

    public static readonly Core.Experiments.Definitions.ExperimentCatalog Experiments =
        Core.Experiments.Definitions.ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

    private readonly Dictionary<string, RejectReason?> _labels = new();

    private readonly List<SyntheticRecord> _records;
    private int _produced;

    /// <param name="produceNow">How many records to produce at once (default all); <see cref="ProduceRest"/> sends the others.</param>
    public PipelineScenario(KafkaFixture kafka, string name, long seed, int count, int users, int? produceNow = null)
        : this(kafka, name, new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = users, BadRecordShare = 0.02 }).Generate(count), ShardOptions, produceNow)
    {
    }

    /// <summary>A scenario over given records (labels = their decode verdicts), run and referenced with <paramref name="options"/>.</summary>
    public PipelineScenario(KafkaFixture kafka, string name, IEnumerable<SyntheticRecord> records, ShardOptions options, int? produceNow = null)
    {
        Kafka = kafka;
        Options = options;
        Input = $"clickstream-{name}";
        kafka.Cluster.CreateTopic(Input, Partitions);
        _records = records.ToList();
        foreach (var r in _records) _labels[Convert.ToBase64String(r.Value)] = r.ExpectedReject;
        Count = _records.Count;
        Produce(produceNow ?? _records.Count);
    }

    /// <summary>The shard options this scenario's reference uses (default <see cref="ShardOptions"/>).</summary>
    public ShardOptions Options { get; }

    public void ProduceRest() => Produce(_records.Count - _produced);

    /// <summary>Produces the next <paramref name="n"/> records (at most the rest).</summary>
    public void ProduceMore(int n) => Produce(Math.Min(n, _records.Count - _produced));

    /// <summary>Records produced so far.</summary>
    public int Produced => _produced;

    private void Produce(int n)
    {
        using var producer = SyntheticProducer.CreateBulkProducer(Kafka.Bootstrap);
        var sent = new SyntheticProducer(producer, Input).Produce(_records.Skip(_produced).Take(n), 0, null, CancellationToken.None);
        Assert.Equal(n, sent);
        _produced += n;
    }

    public KafkaFixture Kafka { get; }

    public string Input { get; }

    public long Count { get; }

    /// <summary>Kafka settings of one run: the scenario's input, and output topics suffixed with the run name.</summary>
    public KafkaOptions KafkaFor(string run)
    {
        var k = new KafkaOptions
        {
            BootstrapServers = Kafka.Bootstrap, ClickstreamTopic = Input,
            SessionsTopic = $"sessions-{Input}-{run}", SegmentChangesTopic = $"segments-{Input}-{run}", DeadLetterTopic = $"dlq-{Input}-{run}",
            ExperimentStatsTopic = $"xstats-{Input}-{run}", ExperimentStateTopic = $"xstate-{Input}-{run}", AlertsTopic = $"alerts-{Input}-{run}",
            SessionTimeout = TimeSpan.FromSeconds(6),
        };
        foreach (var t in new[] { k.SessionsTopic, k.SegmentChangesTopic, k.DeadLetterTopic, k.ExperimentStatsTopic, k.ExperimentStateTopic, k.AlertsTopic }) Kafka.Cluster.CreateTopic(t, Partitions);
        return k;
    }

    /// <summary>The reference model run over the log as Kafka holds it (partition, offset order).</summary>
    /// <param name="relabel">Overrides a record's label (e.g. poison records as processing_error); null keeps the generator's.</param>
    public ReferenceModel Reference(Func<Confluent.Kafka.ConsumeResult<byte[], byte[]>, RejectReason?, RejectReason?>? relabel = null)
    {
        var log = TopicReader.ReadAll(Kafka.Bootstrap, Input, Partitions);
        Assert.Equal(Count, log.Count);
        var reference = new ReferenceModel(ReferenceSettings.From(Options), Catalog);
        foreach (var partition in log.GroupBy(r => r.Partition.Value))
            reference.RunPartition(partition.OrderBy(r => r.Offset.Value)
                .Select(r => new LogRecord(r.Partition.Value, r.Offset.Value, r.Message.Value,
                    relabel is null ? _labels[Convert.ToBase64String(r.Message.Value)] : relabel(r, _labels[Convert.ToBase64String(r.Message.Value)]))));
        return reference;
    }

    /// <summary>The outputs of a run as the reference renders them, de-duplicated by record id (duplicates must be identical).</summary>
    public Dictionary<string, List<string>> Outputs(KafkaOptions run, out Dictionary<(int, long), string> deadLetters, out int duplicates)
    {
        var byId = new Dictionary<string, (string User, long Seq, string Rendered)>();
        duplicates = 0;
        foreach (var topic in new[] { run.SessionsTopic, run.SegmentChangesTopic })
        {
            foreach (var r in TopicReader.ReadAll(Kafka.Bootstrap, topic, Partitions))
            {
                var rendered = EngineRendering.RenderJson(r.Message.Value);
                var id = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(OutputMessages.RecordIdHeader));
                Assert.Equal($"{rendered.User}/{rendered.Sequence}", id);
                if (byId.TryGetValue(id, out var seen))
                {
                    duplicates++;
                    Assert.True(seen.Rendered == rendered.Rendered, $"record {id} was re-emitted with different content");
                }
                else byId[id] = rendered;
            }
        }
        deadLetters = new();
        foreach (var r in TopicReader.ReadAll(Kafka.Bootstrap, run.DeadLetterTopic, Partitions))
        {
            var source = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(OutputMessages.SourceHeader));
            var reason = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(OutputMessages.ReasonHeader));
            var at = source.LastIndexOf('@');
            var slash = source.LastIndexOf('/', at);
            var key = (int.Parse(source[(slash + 1)..at]), long.Parse(source[(at + 1)..]));
            if (deadLetters.TryGetValue(key, out var earlier)) Assert.Equal(earlier, reason);
            deadLetters[key] = reason;
            Assert.Equal(Input, source[..slash]);
        }
        return byId.Values.GroupBy(v => v.User, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(v => v.Seq).Select(v => v.Rendered).ToList(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Experiment totals as the experiment stage would see them: every delta on the run's experiment-stats topic
    /// applied to a fresh <see cref="Core.Experiments.State.ExperimentState"/> per experiment (duplicates skipped).
    /// </summary>
    public Dictionary<string, Core.Experiments.State.ExperimentState> ExperimentTotals(KafkaOptions run)
    {
        var states = new Dictionary<string, Core.Experiments.State.ExperimentState>();
        foreach (var r in TopicReader.ReadAll(Kafka.Bootstrap, run.ExperimentStatsTopic, Partitions).OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value))
        {
            var delta = Core.Experiments.State.ExperimentDelta.FromBytes(r.Message.Value);
            if (!states.TryGetValue(delta.ExperimentId, out var state))
                states[delta.ExperimentId] = state = Core.Experiments.State.ExperimentState.For(Core.Experiments.State.ExperimentShape.From(Experiments[delta.ExperimentId]));
            var outcome = state.Apply(delta);
            Assert.True(outcome is Core.Experiments.State.ApplyOutcome.Applied or Core.Experiments.State.ApplyOutcome.Duplicate, $"{delta}: {outcome}");
        }
        return states;
    }

    /// <summary>The same totals computed in memory: one user shard per partition over the log as Kafka holds it.</summary>
    public Dictionary<string, Core.Experiments.State.ExperimentState> ExpectedExperimentTotals()
    {
        var states = new Dictionary<string, Core.Experiments.State.ExperimentState>();
        foreach (var partition in TopicReader.ReadAll(Kafka.Bootstrap, Input, Partitions).GroupBy(r => r.Partition.Value))
        {
            var shard = new UserShard(partition.Key, ShardOptions, Catalog, new ListShardOutput(), experiments: Experiments);
            foreach (var r in partition.OrderBy(r => r.Offset.Value))
                shard.Process(new InputRecord(Input, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs));
            foreach (var delta in shard.ExperimentDeltas!.Take(partition.Key, partition.Max(r => r.Offset.Value) + 1))
            {
                if (!states.TryGetValue(delta.ExperimentId, out var state))
                    states[delta.ExperimentId] = state = Core.Experiments.State.ExperimentState.For(Core.Experiments.State.ExperimentShape.From(Experiments[delta.ExperimentId]));
                Assert.Equal(Core.Experiments.State.ApplyOutcome.Applied, state.Apply(delta));
            }
        }
        return states;
    }

    public static void AssertSameExperimentTotals(Dictionary<string, Core.Experiments.State.ExperimentState> expected, Dictionary<string, Core.Experiments.State.ExperimentState> actual)
    {
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (id, e) in expected)
        {
            foreach (var arm in e.Arms)
            {
                var a = actual[id].Arm(arm.VariantId);
                Assert.True(arm.Users == a.Users && arm.Conversions == a.Conversions, $"{id}/{arm.VariantId}: users {arm.Users} vs {a.Users}, conversions {arm.Conversions} vs {a.Conversions}");
                Assert.True(Math.Abs(arm.ValueSum - a.ValueSum) <= 1e-9 * Math.Max(1, Math.Abs(arm.ValueSum)), $"{id}/{arm.VariantId}: Σy {arm.ValueSum} vs {a.ValueSum}");
                Assert.True(Math.Abs(arm.CovariateSum - a.CovariateSum) <= 1e-9 * Math.Max(1, Math.Abs(arm.CovariateSum)), $"{id}/{arm.VariantId}: Σx {arm.CovariateSum} vs {a.CovariateSum}");
            }
        }
    }

    /// <summary>Records of the input the store's checkpoints cover (sum of next offsets).</summary>
    public static async Task<long> CheckpointedAsync(ICheckpointStore store) =>
        (await store.LoadCheckpointsAsync(StreamNode.Scope)).Sum(c => c.NextOffset);
}
