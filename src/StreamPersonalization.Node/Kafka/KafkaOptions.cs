using StreamPersonalization.Kafka;

namespace StreamPersonalization.Node.Kafka;

/// <summary>Kafka connection and topic names (configuration section <c>Kafka</c>).</summary>
public sealed record KafkaOptions
{
    /// <value>Bootstrap servers, e.g. "127.0.0.1:9092". Empty means: start the embedded mock cluster (demo only).</value>
    public string BootstrapServers { get; init; } = "";

    /// <value>Input topic of clickstream events, keyed by user id. Default "clickstream".</value>
    public string ClickstreamTopic { get; init; } = "clickstream";

    /// <value>Output topic of closed sessions. Default "sessions".</value>
    public string SessionsTopic { get; init; } = "sessions";

    /// <value>Output topic of segment enter/exit transitions. Default "segment-changes".</value>
    public string SegmentChangesTopic { get; init; } = "segment-changes";

    /// <value>Output topic of rejected input records (original bytes and headers plus sp-reason). Default "dead-letter".</value>
    public string DeadLetterTopic { get; init; } = "dead-letter";

    /// <value>Output topic of per-checkpoint experiment deltas (binary ExperimentDelta, keyed by experiment id), published from the store's outbox. Default "experiment-stats".</value>
    public string ExperimentStatsTopic { get; init; } = "experiment-stats";

    /// <value>Output topic of experiment snapshots (JSON, keyed by experiment id; meant to be compacted). Default "experiment-state".</value>
    public string ExperimentStateTopic { get; init; } = "experiment-state";

    /// <value>Alerts (SRM, metric anomalies, guardrail breaches, data quality): raised/resolved changes keyed by alert key. Default "alerts".</value>
    public string AlertsTopic { get; init; } = "alerts";

    /// <value>Output topic of private cohort metrics: one JSON record per released cohort and period, keyed by period/cohort. Default "cohort-metrics".</value>
    public string CohortMetricsTopic { get; init; } = "cohort-metrics";

    /// <value>Partitions per topic when the embedded cluster creates them. Default 12. Allowed 1..256.</value>
    public int EmbeddedPartitions { get; init; } = 12;

    /// <value>Static group membership (KIP-345): the node's consumers of <c>Node:GroupId</c> and <c>Node:ExperimentsGroupId</c>
    /// set <c>group.instance.id</c> from <c>Node:NodeId</c>, so a node restarted within <see cref="SessionTimeout"/> gets its
    /// partitions back without a group-wide rebalance. A static member does not leave the group when it stops: its partitions
    /// wait for it until the session timeout. Two running nodes with one node id fence each other (the older one stops).
    /// Default true.</value>
    public bool StaticMembership { get; init; } = true;

    /// <value>Consumer <c>session.timeout.ms</c>: how long the group coordinator waits for a silent member (a killed node)
    /// before giving its partitions to others. Bounds failover from below. Default 6 s (Kafka brokers' default
    /// <c>group.min.session.timeout.ms</c>; lower needs that broker setting lowered). Allowed 1 s..30 min.</value>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <value>Consumer <c>heartbeat.interval.ms</c>: how often a member tells the coordinator it is alive and learns of a
    /// rebalance. Default 1 s. Allowed 100 ms..a third of <see cref="SessionTimeout"/>.</value>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <value>Extra librdkafka settings applied to every client (e.g. "security.protocol"). Default none.</value>
    public Dictionary<string, string> ClientSettings { get; init; } = new();

    /// <value>Extra librdkafka settings for the consumer only (e.g. "session.timeout.ms"). Default none.</value>
    public Dictionary<string, string> ConsumerSettings { get; init; } = new();

    public KafkaOptions Validate(bool embeddedAllowed)
    {
        NodeOptions.Require(embeddedAllowed || !string.IsNullOrWhiteSpace(BootstrapServers), "Kafka:BootstrapServers", BootstrapServers, "host:port[,host:port…] (required by 'run')");
        foreach (var (key, topic) in new[] { ("Kafka:ClickstreamTopic", ClickstreamTopic), ("Kafka:SessionsTopic", SessionsTopic), ("Kafka:SegmentChangesTopic", SegmentChangesTopic), ("Kafka:DeadLetterTopic", DeadLetterTopic), ("Kafka:ExperimentStatsTopic", ExperimentStatsTopic), ("Kafka:ExperimentStateTopic", ExperimentStateTopic), ("Kafka:AlertsTopic", AlertsTopic), ("Kafka:CohortMetricsTopic", CohortMetricsTopic) })
            NodeOptions.Require(!string.IsNullOrWhiteSpace(topic) && topic.Length <= 249 && topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'), key, topic, "1..249 characters of [A-Za-z0-9._-]");
        NodeOptions.Require(EmbeddedPartitions is >= 1 and <= 256, "Kafka:EmbeddedPartitions", EmbeddedPartitions, "1..256");
        NodeOptions.Require(SessionTimeout >= TimeSpan.FromSeconds(1) && SessionTimeout <= TimeSpan.FromMinutes(30), "Kafka:SessionTimeout", SessionTimeout, "00:00:01..00:30:00");
        NodeOptions.Require(HeartbeatInterval >= TimeSpan.FromMilliseconds(100) && HeartbeatInterval * 3 <= SessionTimeout, "Kafka:HeartbeatInterval", HeartbeatInterval, "00:00:00.1..a third of Kafka:SessionTimeout");
        // Keyed outputs and the forget route must land where publishers put a user's events (murmur2, the Java default).
        if (ClientSettings.TryGetValue("partitioner", out var partitioner))
            NodeOptions.Require(KeyedProducers.JavaCompatible.Contains(partitioner), "Kafka:ClientSettings:partitioner", partitioner, string.Join(", ", KeyedProducers.JavaCompatible) + " (publishers partition keys with murmur2)");
        foreach (var key in new[] { "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy" })
            NodeOptions.Require(!ClientSettings.ContainsKey(key) && !ConsumerSettings.ContainsKey(key), $"Kafka:ConsumerSettings:{key}", key,
                "not set here: it is derived from Node:NodeId / Kafka:StaticMembership, Kafka:SessionTimeout, Kafka:HeartbeatInterval, or fixed (cooperative-sticky)");
        return this;
    }
}
