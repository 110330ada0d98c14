namespace StreamPersonalization.Core.Ingest;

/// <summary>Limits applied to every clickstream record at ingest (configuration section <c>Ingest</c>).</summary>
public sealed record DecoderOptions
{
    /// <value>Largest accepted record value in bytes. Default 65,536. Allowed 256..16,777,216.</value>
    public int MaxValueBytes { get; init; } = 64 * 1024;

    /// <value>Deepest accepted JSON nesting (the event object is depth 1). Default 8. Allowed 2..64.</value>
    public int MaxDepth { get; init; } = 8;

    /// <value>How far an event's ts may lie after the record's Kafka timestamp. Default 5 minutes. Allowed 0..7 days.</value>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <value>Longest accepted user id in characters. Default 256. Allowed 1..4096.</value>
    public int MaxUserIdLength { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the key and the allowed values.</summary>
    public DecoderOptions Validate()
    {
        Require(MaxValueBytes is >= 256 and <= 16 * 1024 * 1024, "Ingest:MaxValueBytes", MaxValueBytes, "256..16777216");
        Require(MaxDepth is >= 2 and <= 64, "Ingest:MaxDepth", MaxDepth, "2..64");
        Require(MaxFutureSkew >= TimeSpan.Zero && MaxFutureSkew <= TimeSpan.FromDays(7), "Ingest:MaxFutureSkew", MaxFutureSkew, "00:00:00..7.00:00:00");
        Require(MaxUserIdLength is >= 1 and <= 4096, "Ingest:MaxUserIdLength", MaxUserIdLength, "1..4096");
        return this;
    }

    internal static void Require(bool ok, string key, object value, string allowed)
    {
        if (!ok) throw new ArgumentOutOfRangeException(key, value, $"Configuration key '{key}' is {value}; allowed: {allowed}.");
    }
}
