namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Knobs of <see cref="HostileCorpusGenerator"/>. The labels assume the pipeline's defaults: decoder limits
/// (64 KiB values, depth 8, user ids ≤ 256 characters, 5 minutes of future skew), <c>Sessions:Grace</c> ≥ 2 minutes
/// (so a re-send of a recent event is never late) and a de-duplication window of at least a few dozen ids per user.
/// </summary>
public sealed record HostileCorpusOptions
{
    /// <summary>The regular traffic the hostile records are mixed into (its own <see cref="ClickstreamGeneratorOptions.BadRecordShare"/> is ignored: set to 0).</summary>
    /// <value>Default: the generator's defaults with 200 users.</value>
    public ClickstreamGeneratorOptions Traffic { get; init; } = new() { Users = 200 };

    /// <summary>Regular (valid) records.</summary>
    /// <value>Default 20,000; range [1, 10,000,000].</value>
    public int ValidRecords { get; init; } = 20_000;

    /// <summary>Hostile records, spread uniformly over the traffic after the warm-up.</summary>
    /// <value>Default 10,000; range [0, 10,000,000].</value>
    public int HostileRecords { get; init; } = 10_000;

    /// <summary>Valid records before the first hostile one, so every partition has a watermark (an ancient event is then late, not first).</summary>
    /// <value>Default 1,000; range [0, ValidRecords].</value>
    public int WarmUpRecords { get; init; } = 1_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid key and its allowed range.</summary>
    public HostileCorpusOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Traffic, nameof(Traffic));
        Traffic.Validate();
        Require(nameof(ValidRecords), ValidRecords, ValidRecords is >= 1 and <= 10_000_000, "[1, 10,000,000]");
        Require(nameof(HostileRecords), HostileRecords, HostileRecords is >= 0 and <= 10_000_000, "[0, 10,000,000]");
        Require(nameof(WarmUpRecords), WarmUpRecords, WarmUpRecords >= 0 && WarmUpRecords <= ValidRecords, $"[0, ValidRecords = {ValidRecords}]");
        return this;
    }

    private static void Require(string key, int value, bool ok, string allowed)
    {
        if (!ok) throw new ArgumentOutOfRangeException(key, value, $"HostileCorpusOptions.{key} must be in {allowed}; got {value}.");
    }
}
