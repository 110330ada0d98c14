using System.Text;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Runtime.Partitions;
using StreamPersonalization.Runtime.Tests.Ingest;
using StreamPersonalization.Tests.Rounds;
using Xunit.Abstractions;

namespace StreamPersonalization.Runtime.Tests.Partitions;

/// <summary><see cref="ProducerSinkStage"/> against the embedded Kafka (librdkafka's mock cluster): what it acknowledges is on the broker, once.</summary>
public sealed class ProducerSinkStageTests(EmbeddedKafkaFixture kafka, ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(output: output), IClassFixture<EmbeddedKafkaFixture>
{
    private static readonly List<ShardOutput> Outputs = Reference();

    // Real outputs of every kind: transitions, sessions, erasures (two tombstones each), dead letters.
    private static List<ShardOutput> Reference()
    {
        var log = RoundsScenario.Log(41, 6_000);
        var (ends, checkpoints) = RoundsScenario.Batching(log.Count, 500, 41);
        return RoundsScenario.RunShard(log, RoundsScenario.Options(null), ends, checkpoints).Outputs;
    }

    private OutputTopics CreateTopics(string prefix)
    {
        var topics = new OutputTopics($"{prefix}-sessions", $"{prefix}-segment-changes", $"{prefix}-dead-letter");
        foreach (var t in new[] { topics.Sessions, topics.SegmentChanges, topics.DeadLetter }) kafka.Cluster.CreateTopic(t, 3);
        return topics;
    }

    private static List<RoundOutputs> Batches(IReadOnlyList<ShardOutput> outputs, int seed)
    {
        var rng = new Random(seed);
        var batches = new List<RoundOutputs>();
        for (var at = 0; at < outputs.Count;)
        {
            var n = Math.Min(outputs.Count - at, rng.Next(0, 60));   // empty batches too
            batches.Add(new RoundOutputs(0, 1, outputs.Skip(at).Take(n).ToList()));
            at += n;
        }
        return batches;
    }

    private IProducer<byte[], byte[]> Producer(int? maxQueued = null) => new ProducerBuilder<byte[], byte[]>(new ProducerConfig
    {
        BootstrapServers = kafka.Bootstrap, LingerMs = 2, EnableIdempotence = true, QueueBufferingMaxMessages = maxQueued, MessageTimeoutMs = 30_000,
    }.WithJavaPartitioner()).Build();

    [Theory]
    [InlineData(null)]
    [InlineData(5)]   // a local queue of five: the stage waits for room instead of failing
    public async Task Sink_AcknowledgesEachBatch_OnlyOnceItsRecordsAreOnTheBroker_EachOnce(int? maxQueued)
    {
        var topics = CreateTopics($"sink-{maxQueued ?? 0}");
        using var producer = Producer(maxQueued);
        var batches = Batches(Outputs, 42);
        await Source.From(batches).RunWith(Sink.FromGraph(new ProducerSinkStage(producer, topics, maxInFlight: 8)), Sys.Materializer()).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(batches, b => Assert.True(b.Delivered.IsCompletedSuccessfully, $"{b} acknowledged"));

        var expected = OutputRecords.Expected(Outputs, topics);
        var read = OutputRecords.ReadAll(kafka, topics, expected.Count);
        var missing = expected.Except(read).Take(3).ToList();
        var extra = read.Except(expected).Take(3).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: {string.Join(" | ", missing)}; unexpected: {string.Join(" | ", extra)}");
        Assert.Equal(expected.Count, read.Count);   // none twice
        // Per user, in the order emitted (one key, one partition).
        foreach (var user in expected.Where(e => e.Split(' ')[1].Length > 0).GroupBy(e => string.Join(' ', e.Split(' ').Take(2))).Take(50))
            Assert.Equal(user.ToList(), read.Where(r => string.Join(' ', r.Split(' ').Take(2)) == user.Key).ToList());
        Assert.Contains(expected, e => e.EndsWith("tombstone", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sink_BrokerRefusesRecords_FailsThoseBatches_AndDeliversTheRest()
    {
        var topics = CreateTopics("sink-refused");
        using var producer = Producer();
        var first = new RoundOutputs(3, 1, Outputs.Take(20).ToList());
        var rest = Batches(Outputs.Skip(20).Take(300).ToList(), 43);
        kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.InvalidRecord);
        var (queue, done) = Source.Queue<RoundOutputs>(10, OverflowStrategy.Backpressure)
            .ToMaterialized(Sink.FromGraph(new ProducerSinkStage(producer, topics)), Keep.Both).Run(Sys.Materializer());
        await queue.OfferAsync(first);
        var error = await Assert.ThrowsAsync<OutputDeliveryException>(() => first.Delivered.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("partition 3", error.Message);
        kafka.Cluster.ClearRequestErrors(KafkaApiKey.Produce);
        foreach (var b in rest) await queue.OfferAsync(b);
        queue.Complete();
        await done.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(rest, b => Assert.True(b.Delivered.IsCompletedSuccessfully, $"{b}: {b.Delivered.Exception?.GetBaseException().Message}"));
    }
}
