using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>
/// One round's outputs on their way to the producer sink. The partition commits the checkpoint that covers them only
/// after the sink has called <see cref="Acknowledge"/> (every record acknowledged by the broker); <see cref="Fail"/>
/// makes the partition start again from its checkpoint.
/// </summary>
public sealed class RoundOutputs(int partition, long epoch, IReadOnlyList<ShardOutput> outputs)
{
    private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Partition => partition;

    /// <summary>The partition incarnation that produced them.</summary>
    public long Epoch => epoch;

    public IReadOnlyList<ShardOutput> Outputs => outputs;

    /// <summary>Completes when every output is acknowledged by the broker; faults when one could not be delivered.</summary>
    public Task Delivered => _delivered.Task;

    public void Acknowledge() => _delivered.TrySetResult();

    public void Fail(Exception error) => _delivered.TrySetException(error);

    public override string ToString() => $"RoundOutputs(p{partition} epoch {epoch:x}, {outputs.Count} records)";
}
