using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Kafka.Embedded;

namespace StreamPersonalization.Runtime.Tests.Ingest;

/// <summary>One embedded Kafka (librdkafka's mock cluster) for the source-stage tests; each test uses its own topic and group.</summary>
public sealed class EmbeddedKafkaFixture : IDisposable
{
    public EmbeddedKafkaCluster Cluster { get; } = EmbeddedKafkaCluster.Start();

    public string Bootstrap => Cluster.BootstrapServers;

    /// <summary>Creates <paramref name="topic"/> and writes <paramref name="perPartition"/> records to each partition.</summary>
    public void Produce(string topic, int partitions, int perPartition, bool create = true)
    {
        if (create) Cluster.CreateTopic(topic, partitions);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Bootstrap, LingerMs = 5 }.WithJavaPartitioner()).Build();
        for (var i = 0; i < perPartition; i++)
            for (var p = 0; p < partitions; p++)
                producer.Produce(new TopicPartition(topic, p), new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"k{p}"), Value = Encoding.UTF8.GetBytes($"{p}:{i}") });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    public ConsumerConfig Consumer(string group) => new()
    {
        BootstrapServers = Bootstrap,
        GroupId = group,
        ClientId = $"{group}-{Guid.NewGuid():N}",
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 1000,
    };

    public void Dispose() => Cluster.Dispose();
}
