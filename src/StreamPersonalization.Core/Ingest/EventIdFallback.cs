namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// The id an event gets when it carries no <c>event_id</c>: its source position ("topic/partition/offset").
/// Formatted only when needed — most events carry their own id, and this is on the per-record path.
/// </summary>
public readonly struct EventIdFallback
{
    private readonly string? _fixed;
    private readonly string? _topic;
    private readonly int _partition;
    private readonly long _offset;

    public EventIdFallback(string topic, int partition, long offset) => (_topic, _partition, _offset) = (topic, partition, offset);

    private EventIdFallback(string id) => _fixed = id;

    public static implicit operator EventIdFallback(string id) => new(id);

    public override string ToString() => _fixed ?? $"{_topic}/{_partition}/{_offset}";
}
