using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamPersonalization.Kafka;

namespace StreamPersonalization.Node.Kafka;

/// <summary>
/// The seam around Kafka clients: the node asks this for its consumer and producer, so tests can
/// hand it clients with other settings (or of another cluster) without touching node code.
/// </summary>
public interface IKafkaClientFactory
{
    /// <param name="onError">Called with every client-level error (fatal ones included), on a librdkafka thread.</param>
    IProducer<byte[], byte[]> CreateProducer(string clientId, Action<Error>? onError = null);

    /// <param name="staticMember">Whether the consumer is a static member (KIP-345) of <paramref name="groupId"/> with
    /// <c>group.instance.id</c> = <paramref name="clientId"/>, when <c>Kafka:StaticMembership</c> allows it. For groups whose
    /// members keep their identity across restarts (one per node), not for a group made anew by every process.</param>
    ConsumerBuilder<byte[], byte[]> CreateConsumerBuilder(string clientId, string groupId, bool staticMember = false);

    /// <summary>The settings of <see cref="CreateConsumerBuilder"/>'s consumers (for a consumer a stage builds itself).</summary>
    ConsumerConfig ConsumerConfig(string clientId, string groupId, bool staticMember = false);
}

/// <summary>Clients with the settings the node relies on (idempotent producer with the Java client's partitioner,
/// manual offset storage, cooperative-sticky assignment, static membership).</summary>
public sealed class KafkaClientFactory(KafkaOptions options, ILogger? log = null) : IKafkaClientFactory
{
    public IProducer<byte[], byte[]> CreateProducer(string clientId, Action<Error>? onError = null)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            EnableIdempotence = true,   // retries never duplicate or reorder outputs
            Acks = Acks.All,
            LingerMs = 5,
            BatchSize = 512 * 1024,
            QueueBufferingMaxMessages = 500_000,
            MessageTimeoutMs = 120_000,
        }.WithJavaPartitioner();
        foreach (var (key, value) in options.ClientSettings) config.Set(key, value);   // configuration wins over defaults
        var logger = log ?? NullLogger.Instance;
        // librdkafka would otherwise print to stderr; delivery failures themselves reach the shard's DeliveryTracker.
        return new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                logger.Log(e.IsFatal ? LogLevel.Critical : LogLevel.Warning, "Kafka producer error {Code}: {Reason}", e.Code, e.Reason);
                onError?.Invoke(e);
            })
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka producer {Facility}: {Message}", m.Facility, m.Message))
            .Build();
    }

    public ConsumerBuilder<byte[], byte[]> CreateConsumerBuilder(string clientId, string groupId, bool staticMember = false) =>
        new(ConsumerConfig(clientId, groupId, staticMember));

    /// <summary>The settings of <see cref="CreateConsumerBuilder"/>'s consumers.</summary>
    public ConsumerConfig ConsumerConfig(string clientId, string groupId, bool staticMember = false)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            GroupId = groupId,
            // The store's checkpoint is the truth; Kafka commits are for lag monitoring only. Offsets are committed in the
            // background, and only those the node stores explicitly (checkpointed ones): never what Consume returned.
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1_000,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Error, // an offset that fell off the log is reported, never skipped silently
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            // A restarted static member rejoins under its old identity and gets its partitions back without a rebalance
            // (on a broker that implements KIP-345; librdkafka's mock treats it as a new member, see the Kafka README).
            GroupInstanceId = staticMember && options.StaticMembership ? clientId : null,
            SessionTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds,
            HeartbeatIntervalMs = (int)options.HeartbeatInterval.TotalMilliseconds,
            MaxPollIntervalMs = 300_000,
            FetchWaitMaxMs = 50,
            QueuedMaxMessagesKbytes = 64 * 1024,
            // The node subscribes to one topic: skip marshalling its name into every ConsumeResult.
            ConsumeResultFields = "timestamp,headers",
        };
        foreach (var (key, value) in options.ClientSettings.Concat(options.ConsumerSettings)) config.Set(key, value);
        return config;
    }
}
