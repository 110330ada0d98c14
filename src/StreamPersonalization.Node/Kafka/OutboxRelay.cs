using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Node.Kafka;

/// <summary>
/// Publishes the store's outbox rows (written in checkpoint transactions) for the partitions this node owns,
/// in id order, and deletes them once Kafka acknowledged them. A crash between publish and delete publishes
/// a row twice; consumers apply each offset range once, so that is harmless. Rows of a partition that moved
/// are published by its new owner.
/// </summary>
public sealed class OutboxRelay(ICheckpointStore store, string scope, IProducer<byte[], byte[]> producer,
    Func<IReadOnlyCollection<int>> ownedPartitions, ILogger log)
{
    public const string OutboxIdHeader = "sp-outbox-id";
    private const int BatchSize = 1000;
    private long _published;

    /// <summary>Rows published so far.</summary>
    public long Published => Interlocked.Read(ref _published);

    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await PublishOnceAsync(ownedPartitions(), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Rows stay in the outbox and are retried: nothing is lost, publication is only delayed.
                log.LogWarning(ex, "Outbox relay failed; retrying in {Interval}", interval);
            }
            try { await Task.Delay(interval, ct); } catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Publishes every outbox row of <paramref name="partitions"/>; returns how many.</summary>
    public async Task<int> PublishOnceAsync(IReadOnlyCollection<int> partitions, CancellationToken ct)
    {
        if (partitions.Count == 0) return 0;
        var total = 0;
        while (true)
        {
            var rows = await store.ReadOutboxAsync(scope, partitions, BatchSize, ct);
            if (rows.Count == 0) return total;
            // Produced in id order: the idempotent producer keeps that order within each topic partition.
            var deliveries = rows.Select(r => producer.ProduceAsync(r.Topic, new Message<byte[], byte[]>
            {
                Key = r.Key,
                Value = r.Value,
                Headers = new Headers { { OutboxIdHeader, Encoding.UTF8.GetBytes($"{r.Scope}/{r.Partition}/{r.Id}") } },
            }, ct)).ToArray();
            await Task.WhenAll(deliveries);
            await store.DeleteOutboxAsync(rows.Select(r => r.Id).ToList(), ct);
            total += rows.Count;
            Interlocked.Add(ref _published, rows.Count);
            if (rows.Count < BatchSize) return total;
        }
    }
}
