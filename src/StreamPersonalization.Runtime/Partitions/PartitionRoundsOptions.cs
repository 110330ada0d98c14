namespace StreamPersonalization.Runtime.Partitions;

/// <summary>Settings of <see cref="PartitionRoundsStage"/>: how a partition's records become rounds and checkpoints.</summary>
public sealed class PartitionRoundsOptions
{
    /// <summary>The store scope of the user rows and the partitions' checkpoints.</summary>
    /// <value>Default <c>users</c> (the scope the node's HTTP and privacy services read).</value>
    public string Scope { get; init; } = Users.CheckpointStoreUserStateLoader.Scope;

    /// <summary>Most records in one round (one message per touched user).</summary>
    /// <value>Records, 1..1,000,000. Default 5,000: larger rounds mean fewer messages per record; see <c>sp bench --only actors</c>.</value>
    public int MaxRoundRecords { get; init; } = 5_000;

    /// <summary>A checkpoint is taken after this many records; rounds are cut so that it falls exactly there.</summary>
    /// <value>Records, ≥ 1. Default 20,000.</value>
    public int CheckpointMaxRecords { get; init; } = 20_000;

    /// <summary>A partition with unsaved records checkpoints at least this often.</summary>
    /// <value>Default 1 s.</value>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Records held by the stage (all partitions) beyond which it stops pulling from the source, which then
    /// pauses the partitions it holds. A safety cap: the source holding each partition's records until the rounds take
    /// them (<see cref="Ingest.KafkaSourceOptions.HoldUntilReleased"/>) bounds them per partition, and only that keeps a
    /// few partitions from starving the rest (one FIFO brings every partition's records).</summary>
    /// <value>Records, ≥ 1. Default 1,000,000 (about 200 MB of records).</value>
    public int MaxQueuedRecords { get; init; } = 1_000_000;

    /// <summary>Rounds' outputs emitted and not yet taken by the producer sink beyond which no partition starts a round.</summary>
    /// <value>Batches, ≥ 1. Default 64.</value>
    public int MaxPendingOutputs { get; init; } = 64;

    /// <summary>Topic of the experiment deltas written to the store's outbox with each checkpoint (null: none).</summary>
    /// <value>Default null; the node sets its <c>Kafka:ExperimentStatsTopic</c>.</value>
    public string? ExperimentStatsTopic { get; init; }

    /// <summary>Invalid- and late-event ratios watched over each partition's last checkpoints (null: no data-quality alerts).</summary>
    /// <value>Default null; the node sets its <c>Alerts:DataQuality</c>.</value>
    public Core.Experiments.Alerts.DataQualityOptions? DataQuality { get; init; }

    /// <summary>First wait before retrying the store or a failed round; doubled per attempt up to <see cref="RetryMax"/>.</summary>
    /// <value>Default 100 ms.</value>
    public TimeSpan RetryMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between retries.</summary>
    /// <value>Default 5 s.</value>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public PartitionRoundsOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Scope)) throw new ArgumentException($"{nameof(Scope)} must not be empty");
        if (MaxRoundRecords is < 1 or > 1_000_000) throw new ArgumentException($"{nameof(MaxRoundRecords)} must be 1..1,000,000, was {MaxRoundRecords}");
        if (CheckpointMaxRecords < 1) throw new ArgumentException($"{nameof(CheckpointMaxRecords)} must be ≥ 1, was {CheckpointMaxRecords}");
        if (CheckpointInterval <= TimeSpan.Zero) throw new ArgumentException($"{nameof(CheckpointInterval)} must be positive, was {CheckpointInterval}");
        if (MaxQueuedRecords < 1) throw new ArgumentException($"{nameof(MaxQueuedRecords)} must be ≥ 1, was {MaxQueuedRecords}");
        if (MaxPendingOutputs < 1) throw new ArgumentException($"{nameof(MaxPendingOutputs)} must be ≥ 1, was {MaxPendingOutputs}");
        if (RetryMin <= TimeSpan.Zero || RetryMax < RetryMin) throw new ArgumentException($"{nameof(RetryMin)} must be positive and ≤ {nameof(RetryMax)}, were {RetryMin} and {RetryMax}");
        return this;
    }

    /// <summary>The wait before retry <paramref name="attempt"/> (1-based).</summary>
    internal TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(RetryMax.Ticks, RetryMin.Ticks * (1L << Math.Clamp(attempt - 1, 0, 20))));
}
