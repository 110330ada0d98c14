using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Kafka;
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
    public const string RecordIdHeader = OutputMessages.RecordIdHeader, ReasonHeader = OutputMessages.ReasonHeader, DetailHeader = OutputMessages.DetailHeader,
        SourceHeader = OutputMessages.SourceHeader, TruncatedHeader = OutputMessages.TruncatedHeader, ErrorTypeHeader = OutputMessages.ErrorTypeHeader;

    /// <inheritdoc cref="OutputMessages.MaxDeadLetterValueBytes"/>
    public const int MaxDeadLetterValueBytes = OutputMessages.MaxDeadLetterValueBytes;

    private readonly OutputTopics _topics = new(topics.SessionsTopic, topics.SegmentChangesTopic, topics.DeadLetterTopic);
    private readonly List<(string Topic, Message<byte[], byte[]> Message)> _messages = [];

    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery = r =>
        tracker.Acknowledged(r.Error.IsError ? new KafkaException(r.Error) : null);

    public DeliveryTracker Tracker => tracker;

    public void Emit(ShardOutput record)
    {
        _messages.Clear();
        OutputMessages.Add(record, _topics, _messages);
        foreach (var (topic, message) in _messages)
        {
            tracker.Sent();
            ProduceWithBackoff(topic, message);
        }
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
}
