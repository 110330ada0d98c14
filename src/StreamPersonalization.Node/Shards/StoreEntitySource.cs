using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Node.Shards;

/// <summary>Loads passivated entities from the store. Blocking is fine: the caller is the shard's own thread.</summary>
public sealed class StoreEntitySource(ICheckpointStore store, string scope, int partition) : IEntityStateSource
{
    public byte[]? Load(string key) => store.LoadEntityAsync(scope, partition, key).GetAwaiter().GetResult();
}
