using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage.Postgres;

/// <summary>
/// <see cref="ICheckpointStore"/> on PostgreSQL, shared by all nodes of a cluster. Thread-safe: every
/// call rents its own connection from the <see cref="NpgsqlDataSource"/> pool.
/// </summary>
public sealed class PostgresCheckpointStore : ICheckpointStore, IEntityLookup
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _fenceBlockersAfter;

    public PostgresCheckpointStore(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dataSource = options.CreateDataSource();
        _fenceBlockersAfter = TimeSpan.FromSeconds(options.FenceBlockingSessionsAfterSeconds);
    }

    /// <summary>Sessions this store ended because they held a partition's checkpoint row too long (a zombie's).</summary>
    public long SessionsFenced => Interlocked.Read(ref _sessionsFenced);

    private long _sessionsFenced;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(PostgresSchema.Lock, connection, transaction))
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(PostgresSchema.Create, connection, transaction))
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT scope, "partition", next_offset, watermark_ms, shard_state
            FROM sp_checkpoints WHERE scope = $1 AND "partition" = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadCheckpoint(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT scope, "partition", next_offset, watermark_ms, shard_state
            FROM sp_checkpoints WHERE scope = $1 ORDER BY "partition"
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var checkpoints = new List<PartitionCheckpoint>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            checkpoints.Add(ReadCheckpoint(reader));
        return checkpoints;
    }

    /// <inheritdoc />
    public async Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""SELECT state FROM sp_entities WHERE scope = $1 AND "partition" = $2 AND key = $3""");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return (byte[]?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> LoadOwnedEntityAsync(string scope, int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        // One statement: one snapshot of both rows (READ COMMITTED).
        await using var command = _dataSource.CreateCommand("""
            SELECT (SELECT next_offset FROM sp_checkpoints WHERE scope = $1 AND "partition" = $2),
                   (SELECT state FROM sp_entities WHERE scope = $1 AND "partition" = $2 AND key = $3)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        long? stored = reader.IsDBNull(0) ? null : reader.GetInt64(0);
        if (stored != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, stored);
        return reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, byte[]>> LoadOwnedEntitiesAsync(string scope, int partition, IReadOnlyCollection<string> keys,
        long? expectedNextOffset, CancellationToken ct = default)
    {
        // One statement: one snapshot (READ COMMITTED) of the checkpoint's row (key NULL) and the entities' rows.
        await using var command = _dataSource.CreateCommand("""
            SELECT NULL::text, (SELECT next_offset FROM sp_checkpoints WHERE scope = $1 AND "partition" = $2), NULL::bytea
            UNION ALL
            SELECT key, NULL, state FROM sp_entities WHERE scope = $1 AND "partition" = $2 AND key = ANY($3)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var found = new Dictionary<string, byte[]>(keys.Count, StringComparer.Ordinal);
        long? stored = null;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (reader.IsDBNull(0)) stored = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            else found[reader.GetString(0)] = reader.GetFieldValue<byte[]>(2);
        }
        if (stored != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, stored);
        return found;
    }

    /// <inheritdoc />
    public async Task<byte[]?> FindEntityAsync(string scope, string key, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""SELECT state FROM sp_entities WHERE scope = $1 AND key = $2 ORDER BY "partition" DESC LIMIT 1""");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        return (byte[]?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, byte[]>> FindEntitiesAsync(string scope, IReadOnlyCollection<string> keys, CancellationToken ct = default)
    {
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (keys.Count == 0) return found;
        await using var command = _dataSource.CreateCommand("""SELECT key, state FROM sp_entities WHERE scope = $1 AND key = ANY($2) ORDER BY "partition" """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) found[reader.GetString(0)] = (byte[])reader.GetValue(1);
        return found;
    }

    /// <inheritdoc />
    /// <remarks>Ordered by due time, then key.</remarks>
    public async Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT key, next_timer_ms FROM sp_entities
            WHERE scope = $1 AND "partition" = $2 AND next_timer_ms IS NOT NULL
            ORDER BY next_timer_ms, key
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var timers = new List<EntityTimer>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            timers.Add(new EntityTimer(reader.GetString(0), reader.GetInt64(1)));
        return timers;
    }

    /// <inheritdoc />
    /// <remarks>Keys are ordered by their UTF-8 bytes (<c>COLLATE "C"</c>).</remarks>
    public async IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT "partition", key, state, next_timer_ms FROM sp_entities
            WHERE scope = $1 {(partition is null ? "" : "AND \"partition\" = $2")}
            ORDER BY "partition", key
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        if (partition is not null)
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition.Value });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            yield return new StoredEntity(
                scope,
                reader.GetInt32(0),
                reader.GetString(1),
                reader.GetFieldValue<byte[]>(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3));
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Two round trips: the fencing read locks the checkpoint row (<c>FOR UPDATE</c>), then one batch
    /// writes the checkpoint row as a compare-and-set (which also catches two writers racing to create
    /// the first row, where there is nothing to lock yet), inserts the outbox rows and deletes and
    /// upserts the entities set-wise from arrays. Any failure rolls the whole transaction back.
    /// Outbox ids come from a sequence after the partition's row lock is held, so they increase with
    /// commit order within a partition; across partitions, concurrent commits may become visible
    /// slightly out of id order.
    /// </remarks>
    public async Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default)
    {
        CheckpointBatchGuard.Validate(batch);
        ct.ThrowIfCancellationRequested();
        var entities = PostgresEntityArrays.From(EntityWriteCollapser.LastWriteWins(batch.Entities));

        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        var stored = await FenceAndLockStoredOffsetAsync(connection, transaction, batch, ct).ConfigureAwait(false);
        if (stored != batch.ExpectedNextOffset)
            throw new CheckpointConflictException(batch.Scope, batch.Partition, batch.ExpectedNextOffset, stored);

        await using var writes = new NpgsqlBatch(connection, transaction);
        var checkpointWrite = CheckpointWrite(batch);
        writes.BatchCommands.Add(checkpointWrite);
        if (batch.Outbox is { Count: > 0 } outbox)
            writes.BatchCommands.Add(OutboxInserts(batch, outbox));
        if (entities.DeleteKeys.Length > 0)
            writes.BatchCommands.Add(EntityDeletes(batch, entities));
        if (entities.UpsertKeys.Length > 0)
            writes.BatchCommands.Add(EntityUpserts(batch, entities));
        // Erased users and users who withdrew consent lose their sticky assignments; only erasures are audited.
        string[] released = [.. batch.Erasures ?? [], .. batch.Withdrawals ?? []];
        if (released.Length > 0)
            writes.BatchCommands.Add(AssignmentDeletes(released));
        if (batch.Erasures is { Count: > 0 } erasures)
            writes.BatchCommands.Add(ErasureAudits(batch, erasures));
        await writes.ExecuteNonQueryAsync(ct).ConfigureAwait(false);

        if (checkpointWrite.RecordsAffected != 1)
        {
            // Another writer created the row after our fencing read (only possible when none existed).
            var actual = await LockStoredOffsetAsync(connection, transaction, batch, ct).ConfigureAwait(false);
            throw new CheckpointConflictException(batch.Scope, batch.Partition, batch.ExpectedNextOffset, actual);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredOutboxMessage>> ReadOutboxAsync(string scope, IReadOnlyCollection<int> partitions, int max, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        if (partitions.Count == 0)
            return [];

        await using var command = _dataSource.CreateCommand("""
            SELECT id, "partition", topic, key, value FROM sp_outbox
            WHERE scope = $1 AND "partition" = ANY($2)
            ORDER BY id
            LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = scope });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. partitions] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var messages = new List<StoredOutboxMessage>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            messages.Add(new StoredOutboxMessage(
                reader.GetInt64(0),
                scope,
                reader.GetInt32(1),
                reader.GetString(2),
                reader.GetFieldValue<byte[]>(3),
                reader.GetFieldValue<byte[]>(4)));
        }
        return messages;
    }

    /// <inheritdoc />
    public async Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
            return;

        await using var command = _dataSource.CreateCommand("DELETE FROM sp_outbox WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids] });
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Closes the pooled connections.</summary>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>
    /// Locks the partition's checkpoint row. A session of this node's role that holds the lock while PostgreSQL has been
    /// waiting on its client for longer than <see cref="PostgresStoreOptions.FenceBlockingSessionsAfterSeconds"/>
    /// (<c>wait_event = 'ClientRead'</c>, no state change since) is a frozen owner (SIGSTOP, a stalled VM, a network
    /// partition that left its socket open) that no server timeout ends while its statement is half sent: it is
    /// terminated, its transaction rolls back. Never terminated: a live owner (its state changes with every statement),
    /// a slow commit (waiting on I/O or a standby, not on its client), other waiters, other roles' sessions.
    /// </summary>
    private async Task<long?> FenceAndLockStoredOffsetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CheckpointBatch batch, CancellationToken ct)
    {
        if (_fenceBlockersAfter <= TimeSpan.Zero) return await LockStoredOffsetAsync(connection, transaction, batch, ct).ConfigureAwait(false);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var locking = LockStoredOffsetAsync(connection, transaction, batch, waiting.Token);
        try
        {
            while (await Task.WhenAny(locking, Task.Delay(_fenceBlockersAfter, waiting.Token)).ConfigureAwait(false) != locking)
            {
                ct.ThrowIfCancellationRequested();
                await using var fence = _dataSource.CreateCommand("""
                    SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
                    WHERE a.pid = ANY(pg_blocking_pids($1)) AND a.usename = current_user
                      AND a.wait_event = 'ClientRead' AND a.state_change < now() - make_interval(secs => $2)
                    """);
                fence.Parameters.Add(new NpgsqlParameter<int> { TypedValue = connection.ProcessID });
                fence.Parameters.Add(new NpgsqlParameter<double> { TypedValue = _fenceBlockersAfter.TotalSeconds });
                var ended = (long)(await fence.ExecuteScalarAsync(ct).ConfigureAwait(false) ?? 0L);
                Interlocked.Add(ref _sessionsFenced, ended);
            }
            return await locking.ConfigureAwait(false);
        }
        catch when (!locking.IsCompleted)
        {
            // Leave no command running on the connection the caller disposes.
            waiting.Cancel();
            try { await locking.ConfigureAwait(false); } catch (Exception) { }
            throw;
        }
        finally
        {
            waiting.Cancel();   // also ends the pending delay
        }
    }

    private static async Task<long?> LockStoredOffsetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CheckpointBatch batch, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """SELECT next_offset FROM sp_checkpoints WHERE scope = $1 AND "partition" = $2 FOR UPDATE""", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is long offset ? offset : null;
    }

    /// <summary>Insert when no row is expected, otherwise update only the row still holding the expected offset.</summary>
    private static NpgsqlBatchCommand CheckpointWrite(CheckpointBatch batch)
    {
        var command = new NpgsqlBatchCommand(batch.ExpectedNextOffset is null
            ? """
              INSERT INTO sp_checkpoints (scope, "partition", next_offset, watermark_ms, shard_state, updated_at)
              VALUES ($1, $2, $3, $4, $5, now())
              ON CONFLICT (scope, "partition") DO NOTHING
              """
            : """
              UPDATE sp_checkpoints
              SET next_offset = $3, watermark_ms = $4, shard_state = $5, updated_at = now()
              WHERE scope = $1 AND "partition" = $2 AND next_offset = $6
              """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = batch.NextOffset });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = batch.WatermarkMs });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)batch.ShardState ?? DBNull.Value });
        if (batch.ExpectedNextOffset is { } expected)
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expected });
        return command;
    }

    /// <summary>
    /// All outbox rows in one insert from arrays; <c>WITH ORDINALITY</c> + <c>ORDER BY</c> makes the
    /// sequence hand out ids in list order.
    /// </summary>
    private static NpgsqlBatchCommand OutboxInserts(CheckpointBatch batch, IReadOnlyList<OutboxMessage> outbox)
    {
        var topics = new string[outbox.Count];
        var keys = new byte[outbox.Count][];
        var values = new byte[outbox.Count][];
        for (var i = 0; i < outbox.Count; i++)
        {
            topics[i] = outbox[i].Topic;
            keys[i] = outbox[i].Key;
            values[i] = outbox[i].Value;
        }

        var command = new NpgsqlBatchCommand("""
            INSERT INTO sp_outbox (scope, "partition", topic, key, value, created_at)
            SELECT $1, $2, m.topic, m.key, m.value, now()
            FROM unnest($3::text[], $4::bytea[], $5::bytea[]) WITH ORDINALITY AS m(topic, key, value, ord)
            ORDER BY m.ord
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = topics });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = keys });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = values });
        return command;
    }

    private static NpgsqlBatchCommand AssignmentDeletes(string[] userKeys)
    {
        var command = new NpgsqlBatchCommand("DELETE FROM sp_assignments WHERE user_key = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = userKeys });
        return command;
    }

    private static NpgsqlBatchCommand ErasureAudits(CheckpointBatch batch, IReadOnlyList<string> erasures)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO sp_audit (action, subject, scope, "partition") SELECT $1, s, $2, $3 FROM unnest($4::text[]) AS s
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ErasureAudit.Action });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = erasures.Select(ErasureAudit.Subject).ToArray() });
        return command;
    }

    private static NpgsqlBatchCommand EntityDeletes(CheckpointBatch batch, PostgresEntityArrays entities)
    {
        var command = new NpgsqlBatchCommand("""DELETE FROM sp_entities WHERE scope = $1 AND "partition" = $2 AND key = ANY($3)""");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = entities.DeleteKeys });
        return command;
    }

    private static NpgsqlBatchCommand EntityUpserts(CheckpointBatch batch, PostgresEntityArrays entities)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO sp_entities (scope, "partition", key, state, next_timer_ms, updated_at)
            SELECT $1, $2, u.key, u.state, u.next_timer_ms, now()
            FROM unnest($3::text[], $4::bytea[], $5::bigint[]) AS u(key, state, next_timer_ms)
            ON CONFLICT (scope, "partition", key) DO UPDATE SET
                state = EXCLUDED.state,
                next_timer_ms = EXCLUDED.next_timer_ms,
                updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Scope });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch.Partition });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = entities.UpsertKeys });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = entities.UpsertStates });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = entities.UpsertTimers });
        return command;
    }

    private static PartitionCheckpoint ReadCheckpoint(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetInt32(1),
        reader.GetInt64(2),
        reader.GetInt64(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4));
}
