using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka.Embedded;
using Xunit.Abstractions;

namespace StreamPersonalization.Kafka.Tests;

public sealed class KeyedProducersTests(ITestOutputHelper output)
{
    // Keys of Apache Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java)
    // with the hashes it expects; the Java client puts such a keyed record in toPositive(hash) % partitions.
    private static readonly (string Key, int JavaHash)[] JavaVectors =
    [
        ("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971), ("abc", 479470107),
    ];

    private static Dictionary<string, int> ProduceAndReadPartitions(EmbeddedKafkaCluster cluster, string topic, ProducerConfig config, IEnumerable<string> keys)
    {
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var results = keys.Select(k => producer.ProduceAsync(topic, new Message<string, string> { Key = k, Value = k })).ToList();
        return Task.WhenAll(results).GetAwaiter().GetResult().ToDictionary(r => r.Message.Key, r => r.Partition.Value);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(24)]
    [InlineData(50)]
    public void WithJavaPartitioner_PlacesKeysWhereTheJavaClientDoes(int partitions)
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("keyed", partitions);
        var users = Enumerable.Range(0, 300).Select(i => $"user-{i:D5}").ToList();
        var placed = ProduceAndReadPartitions(cluster, "keyed",
            new ProducerConfig { BootstrapServers = cluster.BootstrapServers }.WithJavaPartitioner(), JavaVectors.Select(v => v.Key).Concat(users));

        foreach (var (key, hash) in JavaVectors)
            Assert.Equal((hash & 0x7fffffff) % partitions, placed[key]);
        foreach (var user in users)
            Assert.Equal(KeyPartitioner.PartitionOf(user, partitions), placed[user]);
    }

    [Fact]
    public void LibrdkafkaDefaultPartitioner_PlacesKeysElsewhere()
    {
        // Why the setting matters: librdkafka's default (consistent_random, CRC32) disagrees with the Java client.
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("crc", 24);
        var users = Enumerable.Range(0, 100).Select(i => $"user-{i:D5}").ToList();
        var placed = ProduceAndReadPartitions(cluster, "crc", new ProducerConfig { BootstrapServers = cluster.BootstrapServers }, users);
        var agree = users.Count(u => placed[u] == KeyPartitioner.PartitionOf(Encoding.UTF8.GetBytes(u), 24));
        output.WriteLine($"default partitioner agrees with murmur2 for {agree} of {users.Count} keys");
        Assert.True(agree < 20, $"{agree} of {users.Count}");
    }
}
