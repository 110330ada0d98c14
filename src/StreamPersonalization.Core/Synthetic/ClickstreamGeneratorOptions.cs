namespace StreamPersonalization.Core.Synthetic;

/// <summary>A categorical value with a relative (not necessarily normalised) weight.</summary>
public sealed record WeightedChoice(string Value, double Weight);

/// <summary>
/// Knobs of <see cref="ClickstreamGenerator"/>. Defaults describe a mid-sized shop so tests and the
/// demo work without configuration; every knob is range-checked by <see cref="Validate"/> so a bad
/// config fails fast with the key name instead of producing a silently odd stream.
/// </summary>
public sealed record ClickstreamGeneratorOptions
{
    /// <summary>Seed of every random stream; the same options produce byte-identical records.</summary>
    /// <value>Default 42; any value.</value>
    public long Seed { get; init; } = 42;

    /// <summary>Number of simulated users (ids <c>u000001</c> …); each costs about 200 bytes of memory.</summary>
    /// <value>Default 10,000; range [1, 5,000,000].</value>
    public int Users { get; init; } = 10_000;

    /// <summary>Simulated clock start: no event time is earlier than this.</summary>
    /// <value>Default 2026-11-01T00:00:00Z; range [1970-01-01, 9000-01-01).</value>
    public DateTimeOffset StartTime { get; init; } = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Nominal sessions per user per day for an average-activity user; individual users are scaled by
    /// a skewed activity level. Gaps always include a 60-minute floor, so the realised rate is a bit lower.
    /// </summary>
    /// <value>Default 1.5; range (0, 24].</value>
    public double MeanSessionsPerUserPerDay { get; init; } = 1.5;

    /// <summary>Mean events per session (geometric, at least 1).</summary>
    /// <value>Default 8; range [1, 200].</value>
    public double MeanEventsPerSession { get; init; } = 8;

    /// <summary>Mean seconds between events inside a session (exponential, clamped to [0.2 s, 10 min]
    /// so sessions never split at the consumer's 30-minute inactivity gap).</summary>
    /// <value>Default 40; range (0, 300].</value>
    public double MeanInterEventSeconds { get; init; } = 40;

    /// <summary>Share of emitted records that are malformed (extra records, never replacing real events).</summary>
    /// <value>Default 0.01; range [0, 1].</value>
    public double BadRecordShare { get; init; } = 0.01;

    /// <summary>Share of valid events emitted late (after later events) to exercise the grace period.</summary>
    /// <value>Default 0.02; range [0, 1].</value>
    public double OutOfOrderShare { get; init; } = 0.02;

    /// <summary>
    /// Maximum lateness of an out-of-order event: it is emitted up to this long after its event time.
    /// Kept well below the consumer's grace period (default 5 minutes) so no valid event becomes late.
    /// </summary>
    /// <value>Default 60,000 ms; range [0, 240,000].</value>
    public long MaxOutOfOrderMs { get; init; } = 60_000;

    /// <summary>Kafka timestamp = emission time + uniform delay in [0, this], like producer batching.</summary>
    /// <value>Default 2,000 ms; range [0, 60,000].</value>
    public long MaxIngestDelayMs { get; init; } = 2_000;

    /// <summary>Share of sessions on a device drawn afresh from <see cref="Devices"/> instead of the user's primary device.</summary>
    /// <value>Default 0.1; range [0, 1].</value>
    public double DeviceSwitchShare { get; init; } = 0.1;

    /// <summary>Country distribution; a user's country is fixed for life.</summary>
    /// <value>Default DE, US, GB, FR, NL, PL, ES, IT, SE, JP with decreasing weights; non-empty, weights finite and > 0, values distinct and non-empty.</value>
    public IReadOnlyList<WeightedChoice> Countries { get; init; } = DefaultCountries;

    /// <summary>Device distribution for primary devices and switched sessions.</summary>
    /// <value>Default mobile 0.6, desktop 0.3, tablet 0.1; same constraints as <see cref="Countries"/>.</value>
    public IReadOnlyList<WeightedChoice> Devices { get; init; } = DefaultDevices;

    private static readonly WeightedChoice[] DefaultCountries =
    [
        new("DE", 0.30), new("US", 0.25), new("GB", 0.10), new("FR", 0.10), new("NL", 0.05),
        new("PL", 0.05), new("ES", 0.05), new("IT", 0.05), new("SE", 0.03), new("JP", 0.02),
    ];

    private static readonly WeightedChoice[] DefaultDevices =
    [
        new("mobile", 0.6), new("desktop", 0.3), new("tablet", 0.1),
    ];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid key and its allowed range.</summary>
    public void Validate()
    {
        Range(nameof(Users), Users, 1, 5_000_000);
        if (StartTime < DateTimeOffset.UnixEpoch || StartTime >= new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero))
            throw Fail(nameof(StartTime), StartTime, "must be in [1970-01-01T00:00:00Z, 9000-01-01T00:00:00Z)");
        if (!(MeanSessionsPerUserPerDay > 0 && MeanSessionsPerUserPerDay <= 24))
            throw Fail(nameof(MeanSessionsPerUserPerDay), MeanSessionsPerUserPerDay, "must be in (0, 24]");
        Range(nameof(MeanEventsPerSession), MeanEventsPerSession, 1, 200);
        if (!(MeanInterEventSeconds > 0 && MeanInterEventSeconds <= 300))
            throw Fail(nameof(MeanInterEventSeconds), MeanInterEventSeconds, "must be in (0, 300]");
        Range(nameof(BadRecordShare), BadRecordShare, 0, 1);
        Range(nameof(OutOfOrderShare), OutOfOrderShare, 0, 1);
        Range(nameof(MaxOutOfOrderMs), MaxOutOfOrderMs, 0, 240_000);
        Range(nameof(MaxIngestDelayMs), MaxIngestDelayMs, 0, 60_000);
        Range(nameof(DeviceSwitchShare), DeviceSwitchShare, 0, 1);
        Choices(nameof(Countries), Countries);
        Choices(nameof(Devices), Devices);
    }

    private static void Range(string key, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
            throw Fail(key, value, $"must be in [{min:#,0.##}, {max:#,0.##}]");
    }

    private static void Choices(string key, IReadOnlyList<WeightedChoice>? choices)
    {
        if (choices is null || choices.Count == 0)
            throw Fail(key, choices?.Count ?? 0, "must contain at least one entry");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in choices)
        {
            if (c is null || string.IsNullOrEmpty(c.Value))
                throw Fail(key, c?.Value, "entries must have a non-empty value");
            if (!(c.Weight > 0 && double.IsFinite(c.Weight)))
                throw Fail(key, c.Weight, $"weight of '{c.Value}' must be finite and in (0, +inf)");
            if (!seen.Add(c.Value))
                throw Fail(key, c.Value, $"value '{c.Value}' appears more than once");
        }
    }

    private static ArgumentOutOfRangeException Fail(string key, object? actual, string rule) =>
        new(key, actual, $"ClickstreamGeneratorOptions.{key} {rule}; got {actual ?? "null"}.");
}
