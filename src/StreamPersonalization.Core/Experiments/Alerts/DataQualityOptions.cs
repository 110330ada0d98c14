namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>Thresholds of <see cref="DataQualityMonitor"/> (configuration section <c>DataQuality</c>). Ratios are over all records read in the window.</summary>
public sealed record DataQualityOptions
{
    /// <value>Checkpoints the sliding window spans (the ratios cover the records between the oldest and the newest of the last N + 1 samples). Default 10. Allowed 1..1000.</value>
    public int WindowCheckpoints { get; init; } = 10;

    /// <value>Records the window must hold before ratios are judged; with fewer, alert states are held, not resolved. Default 1000. Allowed 1..100000000.</value>
    public long MinimumRecords { get; init; } = 1000;

    /// <value>Invalid-event ratio (rejected for any reason but late_event) above which a warning is raised. Default 0.05. Allowed (0, 1).</value>
    public double InvalidWarningRatio { get; init; } = 0.05;

    /// <value>Invalid-event ratio above which the alert is critical. Default 0.20. Allowed [InvalidWarningRatio, 1).</value>
    public double InvalidCriticalRatio { get; init; } = 0.20;

    /// <value>Late-event ratio (rejected as late_event: behind the watermark by more than the grace period) above which a warning is raised. Default 0.01. Allowed (0, 1).</value>
    public double LateWarningRatio { get; init; } = 0.01;

    /// <value>Late-event ratio above which the alert is critical. Default 0.05. Allowed [LateWarningRatio, 1).</value>
    public double LateCriticalRatio { get; init; } = 0.05;

    /// <value>Consecutive judged checkpoints below the warning threshold before a raised alert is resolved. Default 3. Allowed 1..1000.</value>
    public int QuietEvaluationsToResolve { get; init; } = 3;

    /// <summary>The defaults.</summary>
    public static DataQualityOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the key and the allowed values when a setting is out of range.</summary>
    public DataQualityOptions Validate()
    {
        const string Section = "DataQuality";
        DetectorOptions.Check(WindowCheckpoints is >= 1 and <= 1000, nameof(WindowCheckpoints), WindowCheckpoints, "1..1000", Section);
        DetectorOptions.Check(MinimumRecords is >= 1 and <= 100_000_000, nameof(MinimumRecords), MinimumRecords, "1..100000000", Section);
        DetectorOptions.Check(InvalidWarningRatio > 0 && InvalidWarningRatio < 1, nameof(InvalidWarningRatio), InvalidWarningRatio, "(0, 1)", Section);
        DetectorOptions.Check(InvalidCriticalRatio >= InvalidWarningRatio && InvalidCriticalRatio < 1, nameof(InvalidCriticalRatio), InvalidCriticalRatio,
            $"[{InvalidWarningRatio} (DataQuality:InvalidWarningRatio), 1)", Section);
        DetectorOptions.Check(LateWarningRatio > 0 && LateWarningRatio < 1, nameof(LateWarningRatio), LateWarningRatio, "(0, 1)", Section);
        DetectorOptions.Check(LateCriticalRatio >= LateWarningRatio && LateCriticalRatio < 1, nameof(LateCriticalRatio), LateCriticalRatio,
            $"[{LateWarningRatio} (DataQuality:LateWarningRatio), 1)", Section);
        DetectorOptions.Check(QuietEvaluationsToResolve is >= 1 and <= 1000, nameof(QuietEvaluationsToResolve), QuietEvaluationsToResolve, "1..1000", Section);
        return this;
    }
}
