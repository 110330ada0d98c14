using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// <see cref="ICheckpointStore"/> on a local SQLite file in WAL mode: one node, no server to run.
/// Thread-safe: every call uses its own pooled connection (see <see cref="SqliteConnectionFactory"/>).
/// </summary>
public sealed class SqliteCheckpointStore : ICheckpointStore, IEntityLookup
{
    private readonly SqliteConnectionFactory _connections;

    public SqliteCheckpointStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connections = new SqliteConnectionFactory(options);
    }

    /// <summary>Absolute path of the database file.</summary>
    public string DatabasePath => _connections.DatabasePath;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        var directory = Path.GetDirectoryName(DatabasePath);
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);

        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        // WAL is persistent in the file: readers never block the writer and vice versa.
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = (string?)await wal.ExecuteScalarAsync(ct).ConfigureAwait(false);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"SQLite database '{DatabasePath}' refused WAL journal mode (got '{mode}').");
        }

        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var ddl = connection.CreateCommand())
        {
            ddl.Transaction = transaction;
            ddl.CommandText = SqliteSchema.Create;
            await ddl.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<PartitionCheckpoint?> LoadCheckpointAsync(string scope, int partition, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT scope, "partition", next_offset, watermark_ms, shard_state
            FROM sp_checkpoints WHERE scope = $scope AND "partition" = $partition
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partition", partition);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadCheckpoint(reader) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PartitionCheckpoint>> LoadCheckpointsAsync(string scope, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT scope, "partition", next_offset, watermark_ms, shard_state
            FROM sp_checkpoints WHERE scope = $scope ORDER BY "partition"
            """;
        command.Parameters.AddWithValue("$scope", scope);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var checkpoints = new List<PartitionCheckpoint>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            checkpoints.Add(ReadCheckpoint(reader));
        return checkpoints;
    }

    /// <inheritdoc />
    public async Task<byte[]?> LoadEntityAsync(string scope, int partition, string key, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT state FROM sp_entities WHERE scope = $scope AND "partition" = $partition AND key = $key""";
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partition", partition);
        command.Parameters.AddWithValue("$key", key);
        return (byte[]?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> LoadOwnedEntityAsync(string scope, int partition, string key, long? expectedNextOffset, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // One statement: one read transaction over both rows.
        command.CommandText = """
            SELECT (SELECT next_offset FROM sp_checkpoints WHERE scope = $scope AND "partition" = $partition),
                   (SELECT state FROM sp_entities WHERE scope = $scope AND "partition" = $partition AND key = $key)
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partition", partition);
        command.Parameters.AddWithValue("$key", key);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        long? stored = reader.IsDBNull(0) ? null : reader.GetInt64(0);
        if (stored != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, stored);
        return reader.IsDBNull(1) ? null : (byte[])reader.GetValue(1);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, byte[]>> LoadOwnedEntitiesAsync(string scope, int partition, IReadOnlyCollection<string> keys,
        long? expectedNextOffset, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // One statement, one read transaction: the checkpoint's row (key NULL) and the entities' rows.
        command.CommandText = """
            SELECT NULL, (SELECT next_offset FROM sp_checkpoints WHERE scope = $scope AND "partition" = $partition)
            UNION ALL
            SELECT key, state FROM sp_entities
            WHERE scope = $scope AND "partition" = $partition AND key IN (SELECT value FROM json_each($keys))
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partition", partition);
        command.Parameters.AddWithValue("$keys", System.Text.Json.JsonSerializer.Serialize(keys));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var found = new Dictionary<string, byte[]>(keys.Count, StringComparer.Ordinal);
        long? stored = null;
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            if (reader.IsDBNull(0)) stored = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            else found[reader.GetString(0)] = (byte[])reader.GetValue(1);
        }
        if (stored != expectedNextOffset) throw new CheckpointConflictException(scope, partition, expectedNextOffset, stored);
        return found;
    }

    /// <inheritdoc />
    public async Task<byte[]?> FindEntityAsync(string scope, string key, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // A key lives in one partition; after a repartitioning the highest partition's row is as good as any.
        command.CommandText = """SELECT state FROM sp_entities WHERE scope = $scope AND key = $key ORDER BY "partition" DESC LIMIT 1""";
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$key", key);
        return (byte[]?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, byte[]>> FindEntitiesAsync(string scope, IReadOnlyCollection<string> keys, CancellationToken ct = default)
    {
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (keys.Count == 0) return found;
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT key, state FROM sp_entities WHERE scope = $scope AND key IN (SELECT value FROM json_each($keys)) ORDER BY "partition"
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$keys", System.Text.Json.JsonSerializer.Serialize(keys));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) found[reader.GetString(0)] = (byte[])reader.GetValue(1);
        return found;
    }

    /// <inheritdoc />
    /// <remarks>Ordered by due time, then key.</remarks>
    public async Task<IReadOnlyList<EntityTimer>> LoadTimersAsync(string scope, int partition, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT key, next_timer_ms FROM sp_entities
            WHERE scope = $scope AND "partition" = $partition AND next_timer_ms IS NOT NULL
            ORDER BY next_timer_ms, key
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partition", partition);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var timers = new List<EntityTimer>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            timers.Add(new EntityTimer(reader.GetString(0), reader.GetInt64(1)));
        return timers;
    }

    /// <inheritdoc />
    /// <remarks>Keys are ordered by their UTF-8 bytes (SQLite BINARY collation).</remarks>
    public async IAsyncEnumerable<StoredEntity> ReadEntitiesAsync(string scope, int? partition = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT "partition", key, state, next_timer_ms FROM sp_entities
            WHERE scope = $scope {(partition is null ? "" : "AND \"partition\" = $partition")}
            ORDER BY "partition", key
            """;
        command.Parameters.AddWithValue("$scope", scope);
        if (partition is not null)
            command.Parameters.AddWithValue("$partition", partition.Value);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            yield return new StoredEntity(
                scope,
                reader.GetInt32(0),
                reader.GetString(1),
                (byte[])reader.GetValue(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3));
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <c>BEGIN IMMEDIATE</c> takes the database write lock before the fencing read, so no other
    /// writer can change the offset between the check and the write. The checkpoint row is written
    /// first, then the outbox rows and the entities, all inside the one transaction; any failure rolls
    /// back all. The write lock also serializes commits, so outbox ids increase with commit order.
    /// </remarks>
    public async Task CommitAsync(CheckpointBatch batch, CancellationToken ct = default)
    {
        CheckpointBatchGuard.Validate(batch);
        ct.ThrowIfCancellationRequested();

        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        var stored = await SqliteCheckpointWriter.ReadStoredOffsetAsync(connection, transaction, batch, ct).ConfigureAwait(false);
        if (stored != batch.ExpectedNextOffset)
            throw new CheckpointConflictException(batch.Scope, batch.Partition, batch.ExpectedNextOffset, stored);

        await SqliteCheckpointWriter.WriteCheckpointAsync(connection, transaction, batch, now, ct).ConfigureAwait(false);
        SqliteCheckpointWriter.WriteOutbox(connection, transaction, batch, now, ct);
        SqliteCheckpointWriter.WriteEntities(connection, transaction, batch, now, ct);
        SqliteCheckpointWriter.WriteUserDeletions(connection, transaction, batch, now);

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

        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // The partitions go in as one JSON array parameter, so any number of them is one statement.
        command.CommandText = """
            SELECT id, "partition", topic, key, value FROM sp_outbox
            WHERE scope = $scope AND "partition" IN (SELECT value FROM json_each($partitions))
            ORDER BY id
            LIMIT $max
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$partitions", "[" + string.Join(",", partitions.Select(p => p.ToString(CultureInfo.InvariantCulture))) + "]");
        command.Parameters.AddWithValue("$max", max);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var messages = new List<StoredOutboxMessage>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            messages.Add(new StoredOutboxMessage(
                reader.GetInt64(0),
                scope,
                reader.GetInt32(1),
                reader.GetString(2),
                (byte[])reader.GetValue(3),
                (byte[])reader.GetValue(4)));
        }
        return messages;
    }

    /// <inheritdoc />
    public async Task DeleteOutboxAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
            return;

        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM sp_outbox WHERE id = $id";
            var id = delete.Parameters.Add("$id", SqliteType.Integer);
            foreach (var value in ids)
            {
                ct.ThrowIfCancellationRequested();
                id.Value = value;
                delete.ExecuteNonQuery();
            }
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Releases the pooled connections, which closes the database file.</summary>
    public ValueTask DisposeAsync()
    {
        _connections.ReleasePool();
        return ValueTask.CompletedTask;
    }

    private static PartitionCheckpoint ReadCheckpoint(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetInt32(1),
        reader.GetInt64(2),
        reader.GetInt64(3),
        reader.IsDBNull(4) ? null : (byte[])reader.GetValue(4));
}
