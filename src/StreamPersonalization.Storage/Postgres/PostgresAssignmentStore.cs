using Npgsql;
using StreamPersonalization.Core.Experiments.Assignment;

namespace StreamPersonalization.Storage.Postgres;

/// <summary>
/// <see cref="IAssignmentStore"/> on the cluster's PostgreSQL (table <c>sp_assignments</c>, created by
/// <see cref="PostgresCheckpointStore.InitializeAsync"/>). First writer wins across nodes: a concurrent insert of
/// the same key waits for the other transaction and then skips; the following read (a new READ COMMITTED
/// snapshot) sees the winner.
/// </summary>
public sealed class PostgresAssignmentStore : IAssignmentStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _synchronousCommit;

    public PostgresAssignmentStore(PostgresStoreOptions options)
    {
        options.Validate();
        _dataSource = options.CreateDataSource();
        _synchronousCommit = $"SET LOCAL synchronous_commit = {options.AssignmentSynchronousCommit}";
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredAssignment>> GetAsync(string experimentId, IReadOnlyCollection<string> userKeys, CancellationToken ct = default)
    {
        if (userKeys.Count == 0) return [];
        await using var command = _dataSource.CreateCommand("""
            SELECT experiment_id, user_key, variant, definition_version, assigned_at_ms FROM sp_assignments
            WHERE experiment_id = $1 AND user_key = ANY($2)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = experimentId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = userKeys.ToArray() });
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredAssignment>> AddIfAbsentAsync(IReadOnlyList<StoredAssignment> candidates, CancellationToken ct = default)
    {
        if (candidates.Count == 0) return [];
        // One key order for every writer: two nodes inserting overlapping keys then wait on each other, never deadlock.
        candidates = [.. candidates.OrderBy(c => c.ExperimentId, StringComparer.Ordinal).ThenBy(c => c.UserKey, StringComparer.Ordinal)];
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var durability = new NpgsqlCommand(_synchronousCommit, connection, transaction))
            await durability.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        var experiments = candidates.Select(c => c.ExperimentId).ToArray();
        var users = candidates.Select(c => c.UserKey).ToArray();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO sp_assignments (experiment_id, user_key, variant, definition_version, assigned_at_ms)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bigint[])
            ON CONFLICT (experiment_id, user_key) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = experiments });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = candidates.Select(c => c.Variant).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = candidates.Select(c => c.DefinitionVersion).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = candidates.Select(c => c.AssignedAtMs).ToArray() });
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        List<StoredAssignment> stored;
        await using (var select = new NpgsqlCommand("""
            SELECT a.experiment_id, a.user_key, a.variant, a.definition_version, a.assigned_at_ms
            FROM unnest($1::text[], $2::text[]) AS k(e, u) JOIN sp_assignments a ON a.experiment_id = k.e AND a.user_key = k.u
            """, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = experiments });
            select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
            stored = await ReadAllAsync(select, ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return stored;
    }

    /// <inheritdoc />
    public async Task<int> DeleteUserAsync(string userKey, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM sp_assignments WHERE user_key = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userKey });
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<List<StoredAssignment>> ReadAllAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredAssignment>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4)));
        return result;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
