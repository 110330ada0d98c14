using Confluent.Kafka;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Tests.Support;

namespace StreamPersonalization.Node.Tests.Kafka;

[Collection(KafkaCollection.Name)]
public sealed class KafkaClientFactoryTests(KafkaFixture kafka)
{
    [Fact]
    public void ConsumerConfig_StaticMember_UsesClientIdAsGroupInstanceId()
    {
        var factory = new KafkaClientFactory(new KafkaOptions { BootstrapServers = "x:1" });
        var config = factory.ConsumerConfig("node-7", "sp-users", staticMember: true);
        Assert.Equal("node-7", config.GroupInstanceId);
        Assert.Equal(PartitionAssignmentStrategy.CooperativeSticky, config.PartitionAssignmentStrategy);
        Assert.Equal(6_000, config.SessionTimeoutMs);
        Assert.Equal(1_000, config.HeartbeatIntervalMs);
        Assert.Null(factory.ConsumerConfig("node-7-state-reader", "sp-state-reader-x").GroupInstanceId);
    }

    [Fact]
    public void ConsumerConfig_StaticMembershipOff_SetsNoGroupInstanceId()
    {
        var factory = new KafkaClientFactory(new KafkaOptions { BootstrapServers = "x:1", StaticMembership = false, SessionTimeout = TimeSpan.FromSeconds(12) });
        var config = factory.ConsumerConfig("node-7", "sp-users", staticMember: true);
        Assert.Null(config.GroupInstanceId);
        Assert.Equal(12_000, config.SessionTimeoutMs);
    }

    [Fact]
    public async Task CreateProducer_PlacesKeyedRecordsInMurmur2Partitions()
    {
        const string topic = "factory-keyed";
        kafka.Cluster.CreateTopic(topic, 12);
        using var producer = new KafkaClientFactory(new KafkaOptions { BootstrapServers = kafka.Bootstrap }).CreateProducer("factory-test");
        var keys = Enumerable.Range(0, 120).Select(i => $"u{i}").ToList();
        var results = await Task.WhenAll(keys.Select(k => producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(k), Value = [1] })));
        foreach (var (key, result) in keys.Zip(results))
            Assert.Equal(KeyPartitioner.PartitionOf(key, 12), result.Partition.Value);
    }

    [Theory]
    [InlineData("partitioner", "consistent_random", true, "Kafka:ClientSettings:partitioner")]
    [InlineData("session.timeout.ms", "3000", false, "Kafka:ConsumerSettings:session.timeout.ms")]
    [InlineData("group.instance.id", "x", false, "Kafka:ConsumerSettings:group.instance.id")]
    [InlineData("partition.assignment.strategy", "range", true, "Kafka:ConsumerSettings:partition.assignment.strategy")]
    public void Validate_SettingsTheNodeDerives_FailNamingTheKey(string key, string value, bool clientWide, string named)
    {
        var options = clientWide
            ? new KafkaOptions { BootstrapServers = "x:1", ClientSettings = new() { [key] = value } }
            : new KafkaOptions { BootstrapServers = "x:1", ConsumerSettings = new() { [key] = value } };
        var error = Assert.ThrowsAny<ArgumentException>(() => options.Validate(embeddedAllowed: false));
        Assert.Contains($"'{named}'", error.Message);
    }

    [Fact]
    public void Validate_HeartbeatOverAThirdOfSessionTimeout_FailsNamingTheKey()
    {
        var options = new KafkaOptions { BootstrapServers = "x:1", SessionTimeout = TimeSpan.FromSeconds(6), HeartbeatInterval = TimeSpan.FromSeconds(3) };
        Assert.Contains("'Kafka:HeartbeatInterval'", Assert.ThrowsAny<ArgumentException>(() => options.Validate(embeddedAllowed: false)).Message);
    }
}
