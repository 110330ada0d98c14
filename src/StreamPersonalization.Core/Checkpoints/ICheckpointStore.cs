namespace StreamPersonalization.Core.Checkpoints;

/// <summary>
/// Durable state of the stateful stages. A shard writes its dirty entities and its partition's next
/// offset in ONE transaction (<see cref="CommitAsync"/>), which is what makes state exactly-once.
/// </summary>
/// <remarks>
/// <para><c>scope</c> separates independent stages that share a database (e.g. <c>users</c>, later
/// <c>experiments</c>); <c>partition</c> is the source Kafka partition that owns the rows.</para>
/// <para>Commits are fenced: <see cref="CheckpointBatch.ExpectedNextOffset"/> must equal the stored
/// offset (or be null when none is stored), otherwise <see cref="CheckpointConflictException"/> is
/// thrown and nothing is written. A zombie shard that lost its partition can therefore never
/// overwrite the state written by the partition's new owner.</para>
/// </remarks>
public interface ICheckpointStore : IAsyncDisposable
{
    /// <summary>Creates the schema if it does not exist. Idempotent; safe to call from several nodes.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>The last committed checkpoint of a partition, or null if none was ever committed.</summary>
    Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default);

    /// <summary>The stored state of one entity, or null if it has none.</summary>
    Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default);

    /// <summary>
    /// The stored state of one entity, for the shard that owns the partition since the checkpoint at
    /// <paramref name="expectedNextOffset"/> (null: no checkpoint yet). The entity and the partition's checkpoint are
    /// read in one snapshot; when the checkpoint has moved, another shard took the partition over (this one is a
    /// zombie: frozen, partitioned away, fenced) and the stored state is newer than its own, so this throws
    /// <see cref="CheckpointConflictException"/> instead of handing it state it must not build outputs on.
    /// </summary>
    /// <remarks>The default reads the entity first and the checkpoint second: a takeover that committed before the
    /// entity read is visible to the later checkpoint read too, so a stale owner never gets newer state unnoticed.</remarks>
    async Task<byte[]?> LoadOwnedEntityAsync(string scope, int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        var state = await LoadEntityAsync(scope, partition, key, ct).ConfigureAwait(false);
        var checkpoint = await LoadCheckpointAsync(scope, partition, ct).ConfigureAwait(false);
        if (checkpoint?.NextOffset != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, checkpoint?.NextOffset);
        return state;
    }

    /// <summary>
    /// <see cref="LoadOwnedEntityAsync"/> for many entities of one partition at once (a round wakes hundreds of users
    /// whose states are not in memory): the rows found, by key (a key without a row is absent), read in one snapshot
    /// with the partition's checkpoint; throws <see cref="CheckpointConflictException"/> when that has moved.
    /// </summary>
    async Task<IReadOnlyDictionary<string, byte[]>> LoadOwnedEntitiesAsync(string scope, int partition, IReadOnlyCollection<string> keys, long? expectedNextOffset,
        CancellationToken ct = default)
    {
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in keys)
            if (await LoadEntityAsync(scope, partition, key, ct).ConfigureAwait(false) is { } state) found[key] = state;
        var checkpoint = await LoadCheckpointAsync(scope, partition, ct).ConfigureAwait(false);   // after the rows: see LoadOwnedEntityAsync
        if (checkpoint?.NextOffset != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, checkpoint?.NextOffset);
        return found;
    }

    /// <summary>Every entity of the partition that has a pending timer (to rebuild the timer queue on start).</summary>
    Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default);

    /// <summary>Writes entity upserts/deletes, the next offset, watermark and shard state in one transaction.</summary>
    Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default);

    /// <summary>All stored entities of a scope (all partitions when <paramref name="partition"/> is null), ordered by partition then key.</summary>
    IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, CancellationToken ct = default);

    /// <summary>All stored checkpoints of a scope, ordered by partition.</summary>
    Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default);

    /// <summary>
    /// Outbox rows written by checkpoints of the given partitions, oldest first (by id), at most <paramref name="max"/>.
    /// A relay publishes them and then deletes them; publishing twice is harmless (consumers apply ranges once).
    /// </summary>
    Task<IReadOnlyList<StoredOutboxMessage>> ReadOutboxAsync(string scope, IReadOnlyCollection<int> partitions, int max, CancellationToken ct = default);

    /// <summary>Deletes published outbox rows; unknown ids are ignored.</summary>
    Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default);
}

/// <summary>A message to publish once its checkpoint is committed (transactional outbox).</summary>
public sealed record OutboxMessage(string Topic, byte[] Key, byte[] Value)
{
    public override string ToString() => $"OutboxMessage({Topic}, key {Key.Length} B, value {Value.Length} B)";
}

/// <summary>A committed outbox row; <see cref="Id"/> increases with commit order within a store.</summary>
public sealed record StoredOutboxMessage(long Id, string Scope, int Partition, string Topic, byte[] Key, byte[] Value)
{
    public override string ToString() => $"StoredOutboxMessage(#{Id} {Scope}/{Partition} → {Topic}, {Value.Length} B)";
}

/// <summary>Committed position of one source partition.</summary>
public sealed record PartitionCheckpoint(string Scope, int Partition, long NextOffset, long WatermarkMs, byte[]? ShardState)
{
    public override string ToString() => $"Checkpoint({Scope}/{Partition} next={NextOffset} wm={WatermarkMs})";
}

/// <summary>One entity change in a checkpoint. <see cref="State"/> null deletes the entity.</summary>
public sealed record EntityWrite(string Key, byte[]? State, long? NextTimerMs)
{
    public override string ToString() => State is null ? $"Delete({Key})" : $"Upsert({Key}, {State.Length} B, timer={NextTimerMs})";
}

/// <summary>Everything one checkpoint writes atomically.</summary>
/// <param name="ExpectedNextOffset">The offset this writer believes is stored (null: none stored). Fencing token.</param>
/// <param name="Outbox">Messages committed with the checkpoint and published afterwards by a relay (none when null).</param>
/// <param name="Erasures">
/// Keys of users erased in this checkpoint's range: their sticky assignments are deleted and one audit row each is
/// written (subject = <see cref="ErasureAudit.Subject"/>, never the key) in the same transaction (none when null).
/// </param>
/// <param name="Withdrawals">
/// Keys of users who withdrew consent in this checkpoint's range: their sticky assignments are deleted in the same
/// transaction (no audit row: the user is not erased), so a later grant starts without them (none when null).
/// </param>
public sealed record CheckpointBatch(
    string Scope,
    int Partition,
    long? ExpectedNextOffset,
    long NextOffset,
    long WatermarkMs,
    byte[]? ShardState,
    IReadOnlyList<EntityWrite> Entities,
    IReadOnlyList<OutboxMessage>? Outbox = null,
    IReadOnlyList<string>? Erasures = null,
    IReadOnlyList<string>? Withdrawals = null)
{
    public override string ToString() =>
        $"CheckpointBatch({Scope}/{Partition} {ExpectedNextOffset?.ToString() ?? "none"}->{NextOffset}, {Entities.Count} entities, {Outbox?.Count ?? 0} outbox)";
}

/// <summary>An entity key and the event time (ms) at which its next timer is due.</summary>
public readonly record struct EntityTimer(string Key, long DueMs);

/// <summary>A stored entity row.</summary>
public sealed record StoredEntity(string Scope, int Partition, string Key, byte[] State, long? NextTimerMs);

/// <summary>The stored offset differs from the writer's expectation: another owner has checkpointed the partition.</summary>
public sealed class CheckpointConflictException(string scope, int partition, long? expected, long? actual)
    : Exception($"Checkpoint conflict on {scope}/{partition}: expected stored next offset {expected?.ToString() ?? "none"}, found {actual?.ToString() ?? "none"}. Another shard owns this partition.")
{
    public string Scope { get; } = scope;
    public int Partition { get; } = partition;
    public long? Expected { get; } = expected;
    public long? Actual { get; } = actual;
}

/// <summary>How erasures appear in the audit table <c>sp_audit</c>: never the user key itself.</summary>
public static class ErasureAudit
{
    /// <summary>Audit action of a <c>forget</c>.</summary>
    public const string Action = "erase_user";

    /// <summary>First 32 hex digits of SHA-256(UTF-8(key)): an auditor who knows a user's pseudonym can find its entry; the table alone names nobody.</summary>
    public static string Subject(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..32];
}
