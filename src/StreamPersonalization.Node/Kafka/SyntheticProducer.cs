using System.Diagnostics;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
using StreamPersonalization.Core.Synthetic;

namespace StreamPersonalization.Node.Kafka;

/// <summary>
/// Publishes generated clickstream to Kafka, keyed by user id with the generated ingest time as the
/// record timestamp, at a bounded rate (token bucket refilled per 10 ms tick; 0 = as fast as possible).
/// </summary>
public sealed class SyntheticProducer(IProducer<byte[], byte[]> producer, string topic)
{
    private long _delivered;
    private long _failed;

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Produces every record, then waits for all acknowledgements. Returns the number sent.</summary>
    public long Produce(IEnumerable<SyntheticRecord> records, double ratePerSecond, Action<long>? progress, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        long sent = 0;
        Action<DeliveryReport<byte[], byte[]>> onDelivery = r =>
        {
            if (r.Error.IsError) Interlocked.Increment(ref _failed); else Interlocked.Increment(ref _delivered);
        };
        foreach (var r in records)
        {
            if (ct.IsCancellationRequested) break;
            if (ratePerSecond > 0)
            {
                var due = sent / ratePerSecond;
                var wait = due - Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (wait > 0.01) Thread.Sleep(TimeSpan.FromSeconds(wait));
            }
            var message = new Message<byte[], byte[]>
            {
                Key = r.Key is null ? null! : System.Text.Encoding.UTF8.GetBytes(r.Key),
                Value = r.Value,
                Timestamp = new Timestamp(r.TimestampMs, TimestampType.CreateTime),
            };
            while (true)
            {
                try { producer.Produce(topic, message, onDelivery); break; }
                catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
            sent++;
            if ((sent & 1023) == 0) progress?.Invoke(sent);
        }
        producer.Flush(TimeSpan.FromMinutes(2));
        progress?.Invoke(sent);
        return sent;
    }

    /// <summary>Producer settings suited to bulk synthetic load.</summary>
    public static IProducer<byte[], byte[]> CreateBulkProducer(string bootstrapServers) =>
        new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = "sp-produce",
            EnableIdempotence = true,
            LingerMs = 20,
            BatchSize = 1024 * 1024,
            QueueBufferingMaxMessages = 1_000_000,
            QueueBufferingMaxKbytes = 1024 * 1024,
        }.WithJavaPartitioner()).Build();
}
