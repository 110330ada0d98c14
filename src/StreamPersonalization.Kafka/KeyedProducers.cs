using Confluent.Kafka;

namespace StreamPersonalization.Kafka;

/// <summary>
/// The partitioner of every producer of keyed records in the project. Publishers of <c>clickstream</c> use the Java
/// client's default for keyed records, murmur2 (<see cref="Core.Shards.KeyPartitioner"/>); librdkafka's own default,
/// <c>consistent_random</c> (CRC32), would put the same key in another partition. <c>murmur2_random</c> is murmur2 for
/// keyed records and a random partition for records without a key.
/// </summary>
public static class KeyedProducers
{
    /// <summary>The partitioner every producer here uses.</summary>
    public const Partitioner Partitioner = Confluent.Kafka.Partitioner.Murmur2Random;

    /// <summary>librdkafka values of <c>partitioner</c> that place keyed records as the Java client does.</summary>
    public static IReadOnlyList<string> JavaCompatible { get; } = ["murmur2", "murmur2_random"];

    /// <summary>Sets <see cref="Partitioner"/> on <paramref name="config"/> and returns it.</summary>
    public static ProducerConfig WithJavaPartitioner(this ProducerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Partitioner = Partitioner;
        return config;
    }
}
