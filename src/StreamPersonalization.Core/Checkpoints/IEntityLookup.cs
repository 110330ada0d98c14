namespace StreamPersonalization.Core.Checkpoints;

/// <summary>
/// Finds an entity's last checkpointed state by key alone, for readers that do not know which source partition
/// owns the key (the assignment API on a node that may not own the user's shard). The state is as of the owning
/// shard's last checkpoint, so it may lag the stream by one checkpoint interval.
/// </summary>
public interface IEntityLookup
{
    /// <summary>The stored state of the entity with <paramref name="key"/> in <paramref name="scope"/>, or null.</summary>
    Task<byte[]?> FindEntityAsync(string scope, string key, CancellationToken ct = default);

    /// <summary>The stored states of several keys in one query (keys without state are absent from the result).</summary>
    Task<IReadOnlyDictionary<string, byte[]>> FindEntitiesAsync(string scope, IReadOnlyCollection<string> keys, CancellationToken ct = default);
}
