using Confluent.Kafka;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>
/// A 3-broker embedded cluster of its own for the broker fault tests: a broker can be down while the others serve,
/// and injected request errors (which hit every client of a cluster) cannot leak into other tests.
/// </summary>
public sealed class ThreeBrokerKafkaFixture() : KafkaFixture(brokers: 3)
{
    public const int Brokers = 3;

    /// <summary>
    /// Moves the leadership of every partition of the scenario's input and of the run's output topics to the broker
    /// <paramref name="leader"/> names (by topic role and partition), so a fault can target exactly those partitions.
    /// </summary>
    public void PinLeaders(PipelineScenario scenario, KafkaOptions run, Func<bool, int, int> leader)
    {
        foreach (var (topic, isInput) in Topics(scenario, run))
            for (var p = 0; p < PipelineScenario.Partitions; p++)
                Cluster.SetPartitionLeader(topic, p, leader(isInput, p));
    }

    /// <summary>The leader broker of every partition of <paramref name="topic"/>, as the cluster's metadata reports it.</summary>
    public IReadOnlyDictionary<int, int> Leaders(string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        return metadata.Topics.Single().Partitions.ToDictionary(p => p.PartitionId, p => p.Leader);
    }

    /// <summary>The store's checkpointed next offset per partition (0 for a partition without a checkpoint).</summary>
    public static async Task<long[]> CheckpointOffsetsAsync(ICheckpointStore store)
    {
        var offsets = new long[PipelineScenario.Partitions];
        foreach (var c in await store.LoadCheckpointsAsync(StreamNode.Scope)) offsets[c.Partition] = c.NextOffset;
        return offsets;
    }

    /// <summary>High watermark (log end) per partition of <paramref name="topic"/>.</summary>
    public long[] LogEnds(string topic, int partitions = PipelineScenario.Partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = "ends-" + Guid.NewGuid().ToString("N") }).Build();
        return Enumerable.Range(0, partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value).ToArray();
    }

    private static IEnumerable<(string Topic, bool IsInput)> Topics(PipelineScenario scenario, KafkaOptions run) =>
    [
        (scenario.Input, true), (run.SessionsTopic, false), (run.SegmentChangesTopic, false), (run.DeadLetterTopic, false),
        (run.ExperimentStatsTopic, false), (run.ExperimentStateTopic, false), (run.AlertsTopic, false),
    ];
}
