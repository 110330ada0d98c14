namespace StreamPersonalization.Core.Shards;

/// <summary>A raw record as read from the source partition: everything dead-lettering must preserve.</summary>
public sealed record InputRecord(
    string Topic,
    int Partition,
    long Offset,
    byte[]? Key,
    byte[] Value,
    long TimestampMs,
    IReadOnlyList<KeyValuePair<string, byte[]>>? Headers = null)
{
    public string Position => $"{Topic}/{Partition}@{Offset}";

    public override string ToString() => $"InputRecord({Position}, key {Key?.Length ?? 0} B, value {Value.Length} B)";
}
