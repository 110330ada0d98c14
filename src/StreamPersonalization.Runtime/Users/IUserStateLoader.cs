using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Runtime.Users;

/// <summary>Where a user actor reads its committed state (the seam around the state store).</summary>
public interface IUserStateLoader
{
    /// <summary>The user's committed row (null: none), read only while the partition's checkpoint is still at
    /// <paramref name="expectedNextOffset"/>; throws <see cref="CheckpointConflictException"/> when another owner moved it.</summary>
    Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default);
}

/// <summary>
/// Reads user rows from the node's checkpoint store (scope <c>users</c>), fenced on the partition's offset, at most
/// <c>maxConcurrentLoads</c> at a time. Bounded because a day boundary wakes every user with a pending timer at once:
/// unbounded, tens of thousands of loads each took a store connection, and the connection pool (with a page cache
/// per connection) grew and stayed grown; a queue of loads costs nothing but the wait.
/// </summary>
public sealed class CheckpointStoreUserStateLoader(ICheckpointStore store, string scope = CheckpointStoreUserStateLoader.Scope, int maxConcurrentLoads = 8)
    : IUserStateLoader
{
    public const string Scope = "users";

    private readonly SemaphoreSlim _slots = new(maxConcurrentLoads >= 1 ? maxConcurrentLoads
        : throw new ArgumentOutOfRangeException(nameof(maxConcurrentLoads), maxConcurrentLoads, "at least 1 concurrent load"));

    public async Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await store.LoadOwnedEntityAsync(scope, partition, key, expectedNextOffset, ct).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }
}
