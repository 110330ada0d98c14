using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Node.Shards;

/// <summary>
/// Loads passivated entities from the store for the shard that owns the partition. Each load is fenced on the shard's
/// last committed offset (<see cref="ICheckpointStore.LoadOwnedEntityAsync"/>): a shard that lost its partition
/// without knowing it (frozen, partitioned away) gets a <see cref="CheckpointConflictException"/> rather than the new
/// owner's newer state, so it cannot publish outputs built on state it does not own. Blocking is fine: the caller is
/// the shard's own thread.
/// </summary>
public sealed class StoreEntitySource(ICheckpointStore store, string scope, int partition) : IEntityStateSource
{
    /// <summary>The shard's last committed next offset (null before its first checkpoint); set by its runner.</summary>
    public Func<long?> ExpectedNextOffset { get; set; } = () => null;

    public byte[]? Load(string key) => store.LoadOwnedEntityAsync(scope, partition, key, ExpectedNextOffset()).GetAwaiter().GetResult();
}
