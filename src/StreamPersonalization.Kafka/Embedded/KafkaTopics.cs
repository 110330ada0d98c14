using StreamPersonalization.Kafka.Embedded;

namespace StreamPersonalization.Kafka;

/// <summary>Topic names used by the stream processor.</summary>
public static class KafkaTopics
{
    public const string Clickstream = "clickstream";
    public const string Sessions = "sessions";
    public const string SegmentChanges = "segment-changes";
    public const string DeadLetter = "dead-letter";

    /// <summary>All four topics, in creation order.</summary>
    public static IReadOnlyList<string> All { get; } = [Clickstream, Sessions, SegmentChanges, DeadLetter];

    /// <summary>Creates all four topics on the embedded cluster, each with <paramref name="partitions"/> partitions
    /// (sessions, segment-changes and dead-letter are co-partitioned with clickstream).</summary>
    public static void CreateDefaults(EmbeddedKafkaCluster cluster, int partitions)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        foreach (var topic in All) cluster.CreateTopic(topic, partitions);
    }
}
