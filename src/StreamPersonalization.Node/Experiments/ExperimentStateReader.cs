using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// Reads the compacted <c>experiment-state</c> topic from the beginning into the node's <see cref="SnapshotBoard"/>
/// (every node reads every partition, so any node can serve bandit assignments and <c>GET /v1/experiments</c>).
/// It joins a consumer group of its own per process, never commits, and starts every partition at the beginning.
/// </summary>
public sealed class ExperimentStateReader(NodeOptions node, KafkaOptions kafka, SnapshotBoard board, IKafkaClientFactory clients, ILogger<ExperimentStateReader> log)
{
    /// <summary>Records that were not snapshots (logged and skipped: the topic is ours, so this means a bug or a foreign producer).</summary>
    public long Unreadable { get; private set; }

    public Task RunAsync(CancellationToken ct) => Task.Factory.StartNew(() => Loop(ct), TaskCreationOptions.LongRunning);

    private void Loop(CancellationToken ct)
    {
        var group = $"sp-state-reader-{node.NodeId}-{Guid.NewGuid():N}";
        using var consumer = clients.CreateConsumerBuilder($"{node.NodeId}-state-reader", group)
            .SetPartitionsAssignedHandler((_, parts) => parts.Select(p => new TopicPartitionOffset(p, Offset.Beginning)))
            .Build();
        consumer.Subscribe(kafka.ExperimentStateTopic);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? record;
                try { record = consumer.Consume(TimeSpan.FromMilliseconds(200)); }
                catch (ConsumeException e) { log.LogWarning("experiment-state read failed ({Reason}); retrying", e.Error.Reason); continue; }
                if (record?.Message?.Value is not { } value) continue;
                try { board.Offer(PublishedSnapshot.Parse(value)); }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    Unreadable++;
                    log.LogWarning("Skipping unreadable experiment-state record at {Partition}@{Offset}: {Error}", record.Partition.Value, record.Offset.Value, e.Message);
                }
            }
        }
        finally
        {
            consumer.Close();
        }
    }
}
