namespace StreamPersonalization.Runtime.Ingest;

/// <summary>Settings of <see cref="KafkaSourceStage"/>.</summary>
public sealed class KafkaSourceOptions
{
    /// <summary>Records of one partition emitted but not yet taken downstream, beyond which the partition is paused.</summary>
    /// <value>Records, ≥ 1. Default 20,000. It resumes at half.</value>
    public int MaxBufferedPerPartition { get; init; } = 20_000;

    /// <summary>Whether a partition's records count against <see cref="MaxBufferedPerPartition"/> until downstream
    /// calls <see cref="PartitionRecords.Release"/> rather than until they are emitted. Downstream that holds records
    /// per partition (the rounds stage) then pauses exactly the partitions it is behind on: one source FIFO feeds every
    /// partition, so a bound on what downstream holds in total would let a few partitions' records starve the rest.</summary>
    /// <value>Default false: counted until emitted.</value>
    public bool HoldUntilReleased { get; init; }

    /// <summary>Most records in one <see cref="PartitionRecords"/>.</summary>
    /// <value>Records, ≥ 1. Default 2,000.</value>
    public int MaxBatch { get; init; } = 2_000;

    /// <summary>How long one poll waits for records when there are none.</summary>
    /// <value>Default 100 ms.</value>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a revoke waits for downstream's <see cref="PartitionRevoked.Acknowledge"/> (the last
    /// checkpoint) before the partition is handed over anyway; the late checkpoint is then fenced.</summary>
    /// <value>Default 30 s.</value>
    public TimeSpan RevokeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>What a partition does when its start offset fell off the log.</summary>
    /// <value>Default <see cref="OffsetOutOfRangePolicy.Fail"/>: stop the partition and report it.</value>
    public OffsetOutOfRangePolicy OnOffsetOutOfRange { get; init; } = OffsetOutOfRangePolicy.Fail;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public KafkaSourceOptions Validate()
    {
        if (MaxBufferedPerPartition < 1) throw new ArgumentException($"{nameof(MaxBufferedPerPartition)} must be ≥ 1, was {MaxBufferedPerPartition}");
        if (MaxBatch < 1) throw new ArgumentException($"{nameof(MaxBatch)} must be ≥ 1, was {MaxBatch}");
        if (PollTimeout <= TimeSpan.Zero) throw new ArgumentException($"{nameof(PollTimeout)} must be positive, was {PollTimeout}");
        if (!Enum.IsDefined(OnOffsetOutOfRange)) throw new ArgumentException($"{nameof(OnOffsetOutOfRange)} must be Fail or Earliest, was {OnOffsetOutOfRange}");
        if (RevokeTimeout <= TimeSpan.Zero) throw new ArgumentException($"{nameof(RevokeTimeout)} must be positive, was {RevokeTimeout}");
        return this;
    }
}
