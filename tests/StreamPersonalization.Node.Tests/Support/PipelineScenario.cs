using System.Text;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Shards;
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

    private readonly Dictionary<string, RejectReason?> _labels = new();

    private readonly List<SyntheticRecord> _records;
    private int _produced;

    /// <param name="produceNow">How many records to produce at once (default all); <see cref="ProduceRest"/> sends the others.</param>
    public PipelineScenario(KafkaFixture kafka, string name, long seed, int count, int users, int? produceNow = null)
    {
        Kafka = kafka;
        Input = $"clickstream-{name}";
        kafka.Cluster.CreateTopic(Input, Partitions);
        _records = new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = users, BadRecordShare = 0.02 }).Generate(count).ToList();
        foreach (var r in _records) _labels[Convert.ToBase64String(r.Value)] = r.ExpectedReject;
        Count = count;
        Produce(produceNow ?? count);
    }

    public void ProduceRest() => Produce(_records.Count - _produced);

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
            ConsumerSettings = new() { ["session.timeout.ms"] = "6000" },
        };
        foreach (var t in new[] { k.SessionsTopic, k.SegmentChangesTopic, k.DeadLetterTopic }) Kafka.Cluster.CreateTopic(t, Partitions);
        return k;
    }

    /// <summary>The reference model run over the log as Kafka holds it (partition, offset order).</summary>
    public ReferenceModel Reference()
    {
        var log = TopicReader.ReadAll(Kafka.Bootstrap, Input, Partitions);
        Assert.Equal(Count, log.Count);
        var reference = new ReferenceModel(ReferenceSettings.From(ShardOptions), Catalog);
        foreach (var partition in log.GroupBy(r => r.Partition.Value))
            reference.RunPartition(partition.OrderBy(r => r.Offset.Value)
                .Select(r => new LogRecord(r.Partition.Value, r.Offset.Value, r.Message.Value, _labels[Convert.ToBase64String(r.Message.Value)])));
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
                var id = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(KafkaShardOutput.RecordIdHeader));
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
            var source = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(KafkaShardOutput.SourceHeader));
            var reason = Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(KafkaShardOutput.ReasonHeader));
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

    /// <summary>Records of the input the store's checkpoints cover (sum of next offsets).</summary>
    public static async Task<long> CheckpointedAsync(ICheckpointStore store) =>
        (await store.LoadCheckpointsAsync(ShardRunner.Scope)).Sum(c => c.NextOffset);
}
