using StreamPersonalization.Kafka.Embedded;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>One embedded Kafka (librdkafka mock cluster) shared by the pipeline tests; each test uses its own topics and groups.</summary>
public sealed class KafkaFixture : IDisposable
{
    public EmbeddedKafkaCluster Cluster { get; } = EmbeddedKafkaCluster.Start(brokers: 1);

    public string Bootstrap => Cluster.BootstrapServers;

    public void Dispose() => Cluster.Dispose();
}

[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaFixture>
{
    public const string Name = "embedded-kafka";
}
