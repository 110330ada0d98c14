using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Node.Kafka;

/// <summary>
/// Publishes one shard's outputs: sessions and transitions as JSON keyed by user, dead letters with the
/// original key, value and headers plus <c>sp-reason</c>, <c>sp-detail</c> and <c>sp-source</c> (and, for a record on
/// which processing threw, <c>sp-error-type</c>: the exception's type; its message is in the detail).
/// Every record carries an <c>sp-record-id</c> header for downstream de-duplication.
/// </summary>
public sealed class KafkaShardOutput(IProducer<byte[], byte[]> producer, KafkaOptions topics, DeliveryTracker tracker) : IShardOutput
{
    public const string RecordIdHeader = "sp-record-id", ReasonHeader = "sp-reason", DetailHeader = "sp-detail", SourceHeader = "sp-source",
        TruncatedHeader = "sp-truncated-from", ErrorTypeHeader = "sp-error-type";

    /// <summary>
    /// Largest original value copied into a dead letter. The input was accepted by a broker whose default
    /// message limit is ~1 MB; our headers must still fit, or the dead letter itself would be rejected and
    /// the shard would retry it forever. Longer values keep their first bytes and say their original size.
    /// </summary>
    public const int MaxDeadLetterValueBytes = 900_000;

    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery = r =>
        tracker.Acknowledged(r.Error.IsError ? new KafkaException(r.Error) : null);

    public DeliveryTracker Tracker => tracker;

    public void Emit(ShardOutput record)
    {
        if (record is UserErased erased)
        {
            // Tombstones: compacted consumers of the keyed outputs drop everything they hold for the user.
            foreach (var t in new[] { topics.SessionsTopic, topics.SegmentChangesTopic })
            {
                tracker.Sent();
                ProduceWithBackoff(t, new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(erased.Key),
                    Value = null!,
                    Headers = new Headers { { RecordIdHeader, Encoding.UTF8.GetBytes(erased.RecordId) } },
                });
            }
            return;
        }
        var (topic, message) = record switch
        {
            SessionClosedOutput s => (topics.SessionsTopic, UserMessage(s, OutputSerializer.Serialize(s))),
            SegmentTransition t => (topics.SegmentChangesTopic, UserMessage(t, OutputSerializer.Serialize(t))),
            DeadLetter d => (topics.DeadLetterTopic, DeadLetterMessage(d)),
            _ => throw new ArgumentException($"Unknown output record {record.GetType().Name}", nameof(record)),
        };
        tracker.Sent();
        ProduceWithBackoff(topic, message);
    }

    /// <summary>An alert change (data quality) to the alerts topic, keyed by alert key with the alert id as record id.</summary>
    public void EmitAlert(Core.Experiments.Alerts.Alert alert)
    {
        tracker.Sent();
        ProduceWithBackoff(topics.AlertsTopic, new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(alert.Key),
            Value = Core.Experiments.Alerts.AlertJson.ToUtf8(alert),
            Headers = new Headers { { RecordIdHeader, Encoding.UTF8.GetBytes(alert.Id) } },
        });
    }

    // A full local queue is back-pressure from the broker, not an error: wait for room, then retry.
    private void ProduceWithBackoff(string topic, Message<byte[], byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, _onDelivery);
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
            catch
            {
                tracker.Acknowledged(new InvalidOperationException("produce failed"));
                throw;
            }
        }
    }

    private static Message<byte[], byte[]> UserMessage(ShardOutput o, byte[] value) => new()
    {
        Key = Encoding.UTF8.GetBytes(o.Key),
        Value = value,
        Headers = new Headers { { RecordIdHeader, Encoding.UTF8.GetBytes(o.RecordId) } },
    };

    private static Message<byte[], byte[]> DeadLetterMessage(DeadLetter d)
    {
        var headers = new Headers();
        if (d.Source.Headers is { } original) foreach (var (k, v) in original) headers.Add(k, v);
        headers.Add(RecordIdHeader, Encoding.UTF8.GetBytes(d.RecordId));
        headers.Add(ReasonHeader, Encoding.UTF8.GetBytes(d.Reason.Code()));
        headers.Add(DetailHeader, Encoding.UTF8.GetBytes(d.Detail));
        headers.Add(SourceHeader, Encoding.UTF8.GetBytes(d.Source.Position));
        if (d.ErrorType is { } errorType) headers.Add(ErrorTypeHeader, Encoding.UTF8.GetBytes(errorType));
        var value = d.Source.Value;
        if (value.Length > MaxDeadLetterValueBytes)
        {
            headers.Add(TruncatedHeader, Encoding.UTF8.GetBytes(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            value = value[..MaxDeadLetterValueBytes];
        }
        return new Message<byte[], byte[]>
        {
            Key = d.Source.Key!,
            Value = value,
            Headers = headers,
            Timestamp = new Timestamp(d.Source.TimestampMs, TimestampType.CreateTime),
        };
    }
}
