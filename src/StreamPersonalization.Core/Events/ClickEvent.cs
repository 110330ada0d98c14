namespace StreamPersonalization.Core.Events;

/// <summary>
/// One validated clickstream event. Immutable. <see cref="TypeName"/> keeps the wire name so custom
/// types stay visible; <see cref="TimestampMs"/> is event time in Unix milliseconds (UTC).
/// <see cref="ConsentGranted"/> is set on <c>consent</c> events only (from <c>properties.personalization</c>).
/// </summary>
public sealed record ClickEvent(
    string EventId,
    string UserId,
    EventType Type,
    string TypeName,
    long TimestampMs,
    string? Page = null,
    string? Device = null,
    string? Country = null,
    double? Value = null,
    string? ExperimentId = null,
    string? Variant = null,
    int PropertyCount = 0,
    bool? ConsentGranted = null)
{
    public override string ToString() =>
        $"ClickEvent({EventId} {UserId} {TypeName} @{DateTimeOffset.FromUnixTimeMilliseconds(TimestampMs):O}{(Value is { } v ? $" value={v}" : "")})";
}
