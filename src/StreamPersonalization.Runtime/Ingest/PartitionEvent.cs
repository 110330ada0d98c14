using Confluent.Kafka;

namespace StreamPersonalization.Runtime.Ingest;

/// <summary>
/// What <see cref="KafkaSourceStage"/> emits, in the order the consumer saw it. For one partition: one
/// <see cref="PartitionAssigned"/>, then its <see cref="PartitionRecords"/> in offset order, then either
/// <see cref="PartitionRevoked"/> (checkpoint, then acknowledge) or <see cref="PartitionLost"/> (drop, do not
/// checkpoint). A partition may be assigned again later.
/// </summary>
public abstract record PartitionEvent(int Partition);

/// <summary>The partition is this node's now; its records start at <paramref name="StartOffset"/> (null: the beginning).</summary>
public sealed record PartitionAssigned(int Partition, long? StartOffset) : PartitionEvent(Partition)
{
    public override string ToString() => $"PartitionAssigned({Partition} from {StartOffset?.ToString() ?? "beginning"})";
}

/// <summary>A batch of one partition's records, consecutive in offset order.</summary>
public sealed record PartitionRecords(int Partition, IReadOnlyList<ConsumeResult<byte[], byte[]>> Records) : PartitionEvent(Partition)
{
    /// <summary>The partition's assignment this batch was fetched in (a batch of an earlier one is never emitted).</summary>
    internal int Generation { get; init; }

    /// <summary>Set by the source under <see cref="KafkaSourceOptions.HoldUntilReleased"/>: gives records back to the
    /// partition's buffer count.</summary>
    internal Action<int>? Releaser { get; init; }

    /// <summary>Downstream holds <paramref name="count"/> of this partition's records no longer (taken into work, or
    /// dropped). Under <see cref="KafkaSourceOptions.HoldUntilReleased"/> each record must be released exactly once, or
    /// its partition stays paused; otherwise this does nothing.</summary>
    public void Release(int count) => Releaser?.Invoke(count);

    public long FirstOffset => Records[0].Offset.Value;

    public long LastOffset => Records[^1].Offset.Value;

    public override string ToString() => $"PartitionRecords({Partition} @{FirstOffset}..{LastOffset}, {Records.Count} records)";
}

/// <summary>
/// The group moves the partition away. No record of it follows (those fetched and not yet emitted are dropped: the
/// next owner reads them from the checkpoint). The consumer waits (up to
/// <see cref="KafkaSourceOptions.RevokeTimeout"/>) for <see cref="Acknowledge"/>, to be called once what was processed is
/// checkpointed, so the next owner starts exactly there.
/// </summary>
public sealed record PartitionRevoked(int Partition) : PartitionEvent(Partition)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The partition's last checkpoint is taken (or cannot be: it is fenced); the consumer may hand it over.</summary>
    public void Acknowledge() => _done.TrySetResult();

    internal Task Acknowledged => _done.Task;

    public override string ToString() => $"PartitionRevoked({Partition})";
}

/// <summary>The partition was taken away without a revoke (session timeout, fencing): another node may own it already;
/// drop its state and do not checkpoint. No record of it follows.</summary>
public sealed record PartitionLost(int Partition) : PartitionEvent(Partition)
{
    public override string ToString() => $"PartitionLost({Partition})";
}

/// <summary>The partition's next offset is no longer in the log and <see cref="OffsetOutOfRangePolicy.Fail"/> holds:
/// the consumer paused it; no record of it follows until it is assigned again.</summary>
public sealed record PartitionDataLost(int Partition, DataLossException Error) : PartitionEvent(Partition)
{
    public override string ToString() => $"PartitionDataLost({Partition}: {Error.Message})";
}
