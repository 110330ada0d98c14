using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Runtime.Users;

/// <summary>Where a user actor reads its committed state (the seam around the state store).</summary>
public interface IUserStateLoader
{
    /// <summary>The user's committed row (null: none), read only while the partition's checkpoint is still at
    /// <paramref name="expectedNextOffset"/>; throws <see cref="CheckpointConflictException"/> when another owner moved it.</summary>
    Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default);
}

/// <summary>Reads user rows from the node's checkpoint store (scope <c>users</c>), fenced on the partition's offset.</summary>
public sealed class CheckpointStoreUserStateLoader(ICheckpointStore store, string scope = CheckpointStoreUserStateLoader.Scope) : IUserStateLoader
{
    public const string Scope = "users";

    public Task<byte[]?> LoadAsync(int partition, string key, long? expectedNextOffset, CancellationToken ct = default) =>
        store.LoadOwnedEntityAsync(scope, partition, key, expectedNextOffset, ct);
}
