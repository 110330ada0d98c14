using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Privacy in the user shard: the deletes, erasures and withdrawals the checkpoint carries. Pseudonymisation,
/// minimisation and redacted dead letters are <see cref="PartitionIngest"/>'s; consent, erasure and retention are
/// <see cref="UserProcessor"/>'s.
/// </summary>
public sealed partial class UserShard
{
    /// <summary>Drops the entity now and deletes its stored row at the next checkpoint.</summary>
    private void DeleteEntity(UserEntity entity)
    {
        _resident.Remove(entity.Key);
        if (entity.Dirty) { _dirty.Remove(entity); entity.Dirty = false; }
        _deletedKeys.Add(entity.Key);
    }

    /// <summary>Users erased since the last call (their stored assignments are deleted and audited in the checkpoint transaction).</summary>
    public IReadOnlyList<string> TakeErasures() => Take(_erasures);

    /// <summary>Users who withdrew consent since the last call (their stored assignments are deleted in the checkpoint transaction).</summary>
    public IReadOnlyList<string> TakeWithdrawals() => Take(_withdrawals);

    private static string[] Take(List<string> keys)
    {
        if (keys.Count == 0) return [];
        var taken = keys.ToArray();
        keys.Clear();
        return taken;
    }
}
