namespace StreamPersonalization.Core.Sessions;

/// <summary>Event-time sessionization settings (configuration section <c>Sessions</c>).</summary>
public sealed record SessionOptions
{
    /// <value>Inactivity gap that ends a session: an event joins a session if it is less than this after the session's last event. Default 30 minutes. Allowed 1 s..1 day.</value>
    public TimeSpan Gap { get; init; } = TimeSpan.FromMinutes(30);

    /// <value>Longest session: an event at or beyond start + MaxLength starts a new session. Default 4 hours. Allowed Gap..7 days.</value>
    public TimeSpan MaxLength { get; init; } = TimeSpan.FromHours(4);

    /// <value>How far behind the partition watermark an event may be and still count (out-of-order tolerance). Default 5 minutes. Allowed 0..1 day.</value>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(5);

    internal long GapMs => (long)Gap.TotalMilliseconds;
    internal long MaxLengthMs => (long)MaxLength.TotalMilliseconds;
    internal long GraceMs => (long)Grace.TotalMilliseconds;

    public SessionOptions Validate()
    {
        Check(Gap >= TimeSpan.FromSeconds(1) && Gap <= TimeSpan.FromDays(1), "Sessions:Gap", Gap, "00:00:01..1.00:00:00");
        Check(MaxLength >= Gap && MaxLength <= TimeSpan.FromDays(7), "Sessions:MaxLength", MaxLength, $"{Gap}..7.00:00:00 (at least Sessions:Gap)");
        Check(Grace >= TimeSpan.Zero && Grace <= TimeSpan.FromDays(1), "Sessions:Grace", Grace, "00:00:00..1.00:00:00");
        return this;
    }

    private static void Check(bool ok, string key, object value, string allowed)
    {
        if (!ok) throw new ArgumentOutOfRangeException(key, value, $"Configuration key '{key}' is {value}; allowed: {allowed}.");
    }
}
