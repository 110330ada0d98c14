using StreamPersonalization.Kafka.Embedded;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>One embedded Kafka (librdkafka mock cluster) shared by the pipeline tests; each test uses its own topics and groups.</summary>
public class KafkaFixture : IDisposable
{
    public KafkaFixture() : this(brokers: 1)
    {
    }

    /// <summary>A cluster of <paramref name="brokers"/> brokers (broker fault tests take one down while the others serve).</summary>
    protected KafkaFixture(int brokers) => Cluster = EmbeddedKafkaCluster.Start(brokers);

    public EmbeddedKafkaCluster Cluster { get; }

    public string Bootstrap => Cluster.BootstrapServers;

    public void Dispose() => Cluster.Dispose();
}

[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaFixture>
{
    public const string Name = "embedded-kafka";
}
