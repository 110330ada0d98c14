using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// One generated clickstream record as it goes to Kafka: key (user id, may be null for some bad
/// records), the UTF-8 value bytes, and the Kafka message timestamp (ingest time, epoch ms).
/// <see cref="ExpectedReject"/> is null for a valid event, else the reason the validator must give.
/// </summary>
public sealed record SyntheticRecord(string? Key, byte[] Value, long TimestampMs, RejectReason? ExpectedReject)
{
    public override string ToString() =>
        $"SyntheticRecord(key={Key ?? "null"}, {Value.Length} B, ts={TimestampMs}, {(ExpectedReject is null ? "valid" : ExpectedReject.Value.Code())})";
}
