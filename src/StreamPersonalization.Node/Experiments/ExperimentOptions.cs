namespace StreamPersonalization.Node.Experiments;

/// <summary>Experiment stage and assignment settings (configuration section <c>Experiments</c>).</summary>
public sealed record ExperimentOptions
{
    /// <value>Experiment catalog file. Default config/experiments.yaml when present; "" turns experiments off.</value>
    public string? File { get; init; }

    /// <value>How often a changed experiment's snapshot is recomputed and published to experiment-state. Default 5 seconds. Allowed 00:00:00.100..01:00:00.</value>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>How often a node re-reads admin definitions from the store (a node applies its own writes at once). Default 5 seconds. Allowed 00:00:00.100..00:10:00.</value>
    public TimeSpan DefinitionRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <value>Sticky assignments kept in memory per node (see AssignmentCacheTtl). Default 1,000,000. Allowed 0..100,000,000.</value>
    public int AssignmentCacheCapacity { get; init; } = 1_000_000;

    /// <value>How long a node answers a sticky assignment from memory before re-reading the store; bounds how long an erasure through another node or the stream can lag on this one. Default 30 seconds. Allowed 0..01:00:00 (0 reads every time).</value>
    public TimeSpan AssignmentCacheTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <value>How long a node reuses a user's facts (consent, market, segments) read from the store for assignment. Default 2 seconds. Allowed 0..00:01:00 (0 reads every time).</value>
    public TimeSpan UserFactsTtl { get; init; } = TimeSpan.FromSeconds(2);

    /// <value>Most new assignments written in one store transaction (group commit). Default 256. Allowed 1..10,000.</value>
    public int AssignmentWriteBatch { get; init; } = 256;

    public ExperimentOptions Validate()
    {
        NodeOptions.Require(SnapshotInterval >= TimeSpan.FromMilliseconds(100) && SnapshotInterval <= TimeSpan.FromHours(1), "Experiments:SnapshotInterval", SnapshotInterval, "00:00:00.100..01:00:00");
        NodeOptions.Require(DefinitionRefreshInterval >= TimeSpan.FromMilliseconds(100) && DefinitionRefreshInterval <= TimeSpan.FromMinutes(10), "Experiments:DefinitionRefreshInterval", DefinitionRefreshInterval, "00:00:00.100..00:10:00");
        NodeOptions.Require(AssignmentCacheCapacity is >= 0 and <= 100_000_000, "Experiments:AssignmentCacheCapacity", AssignmentCacheCapacity, "0..100000000");
        NodeOptions.Require(AssignmentCacheTtl >= TimeSpan.Zero && AssignmentCacheTtl <= TimeSpan.FromHours(1), "Experiments:AssignmentCacheTtl", AssignmentCacheTtl, "00:00:00..01:00:00");
        NodeOptions.Require(UserFactsTtl >= TimeSpan.Zero && UserFactsTtl <= TimeSpan.FromMinutes(1), "Experiments:UserFactsTtl", UserFactsTtl, "00:00:00..00:01:00");
        NodeOptions.Require(AssignmentWriteBatch is >= 1 and <= 10_000, "Experiments:AssignmentWriteBatch", AssignmentWriteBatch, "1..10000");
        return this;
    }
}
