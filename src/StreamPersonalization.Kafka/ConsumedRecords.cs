using Confluent.Kafka;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Kafka;

/// <summary>A consumed Kafka record as the engine reads it: everything dead-lettering must preserve.</summary>
public static class ConsumedRecords
{
    /// <param name="topic">The name the engine gives the source topic (record ids and dead letters carry it).</param>
    public static InputRecord ToInputRecord(this ConsumeResult<byte[], byte[]> r, string topic)
    {
        var m = r.Message;
        List<KeyValuePair<string, byte[]>>? headers = null;
        if (m.Headers is { Count: > 0 })
        {
            headers = new List<KeyValuePair<string, byte[]>>(m.Headers.Count);
            foreach (var h in m.Headers) headers.Add(new(h.Key, h.GetValueBytes()));
        }
        return new InputRecord(topic, r.Partition.Value, r.Offset.Value, m.Key, m.Value ?? [], m.Timestamp.UnixTimestampMs, headers);
    }
}
