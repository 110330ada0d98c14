using System.Text;
using Confluent.Kafka;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Kafka;

/// <summary>The topics a partition's outputs go to.</summary>
public sealed record OutputTopics(string Sessions, string SegmentChanges, string DeadLetter);

/// <summary>
/// How a partition's outputs become Kafka records, written once for every producer: sessions and transitions as JSON
/// keyed by user; an erasure as tombstones on both keyed topics; dead letters with the (already minimised) original
/// key, value and headers plus <c>sp-reason</c>, <c>sp-detail</c>, <c>sp-source</c> and, for a record on which
/// processing threw, <c>sp-error-type</c>. Every record carries <c>sp-record-id</c> for downstream de-duplication.
/// </summary>
public static class OutputMessages
{
    public const string RecordIdHeader = "sp-record-id", ReasonHeader = "sp-reason", DetailHeader = "sp-detail", SourceHeader = "sp-source",
        TruncatedHeader = "sp-truncated-from", ErrorTypeHeader = "sp-error-type";

    /// <summary>
    /// Largest original value copied into a dead letter. The input was accepted by a broker whose default message limit
    /// is ~1 MB; our headers must still fit, or the dead letter itself would be rejected and retried forever. Longer
    /// values keep their first bytes and say their original size.
    /// </summary>
    public const int MaxDeadLetterValueBytes = 900_000;

    /// <summary>The records for <paramref name="output"/> (two for an erasure, one otherwise), added to <paramref name="into"/>.</summary>
    public static void Add(ShardOutput output, OutputTopics topics, List<(string Topic, Message<byte[], byte[]> Message)> into)
    {
        switch (output)
        {
            case UserErased erased:
                // Tombstones: compacted consumers of the keyed outputs drop everything they hold for the user.
                into.Add((topics.Sessions, Tombstone(erased)));
                into.Add((topics.SegmentChanges, Tombstone(erased)));
                break;
            case SessionClosedOutput s:
                into.Add((topics.Sessions, UserMessage(s, OutputSerializer.Serialize(s))));
                break;
            case SegmentTransition t:
                into.Add((topics.SegmentChanges, UserMessage(t, OutputSerializer.Serialize(t))));
                break;
            case DeadLetter d:
                into.Add((topics.DeadLetter, DeadLetterMessage(d)));
                break;
            default:
                throw new ArgumentException($"Unknown output record {output.GetType().Name}", nameof(output));
        }
    }

    private static Message<byte[], byte[]> Tombstone(UserErased erased) => new()
    {
        Key = Encoding.UTF8.GetBytes(erased.Key),
        Value = null!,
        Headers = new Headers { { RecordIdHeader, Encoding.UTF8.GetBytes(erased.RecordId) } },
    };

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

/// <summary>An output could not be delivered to Kafka; the partition that produced it starts again from its checkpoint.</summary>
public sealed class OutputDeliveryException(string message, Exception inner) : Exception(message, inner);
