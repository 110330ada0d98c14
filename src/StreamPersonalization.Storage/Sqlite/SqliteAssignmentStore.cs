using System.Text.Json;
using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Experiments.Assignment;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// <see cref="IAssignmentStore"/> in the node's SQLite file (table <c>sp_assignments</c>, created by
/// <see cref="SqliteCheckpointStore.InitializeAsync"/>); commits use <see cref="SqliteStoreOptions.AssignmentSynchronous"/>. First writer wins because SQLite serializes writers
/// (<c>BEGIN IMMEDIATE</c>) and the insert skips an existing key.
/// </summary>
public sealed class SqliteAssignmentStore(SqliteStoreOptions options) : IAssignmentStore
{
    private readonly SqliteConnectionFactory _connections = new(Validated(options), options.AssignmentSynchronous);

    private static SqliteStoreOptions Validated(SqliteStoreOptions o) { o.Validate(); return o; }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredAssignment>> GetAsync(string experimentId, IReadOnlyCollection<string> userKeys, CancellationToken ct = default)
    {
        if (userKeys.Count == 0) return [];
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // json_each binds any number of keys as one parameter (no SQL text per batch size).
        command.CommandText = """
            SELECT experiment_id, user_key, variant, definition_version, assigned_at_ms FROM sp_assignments
            WHERE experiment_id = $e AND user_key IN (SELECT value FROM json_each($keys))
            """;
        command.Parameters.AddWithValue("$e", experimentId);
        command.Parameters.AddWithValue("$keys", JsonSerializer.Serialize(userKeys));
        return await ReadAllAsync(command, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Two statements per batch whatever its size: the candidates travel as one JSON array parameter.</remarks>
    public async Task<IReadOnlyList<StoredAssignment>> AddIfAbsentAsync(IReadOnlyList<StoredAssignment> candidates, CancellationToken ct = default)
    {
        if (candidates.Count == 0) return [];
        var rows = JsonSerializer.Serialize(candidates.Select(c => new object[] { c.ExperimentId, c.UserKey, c.Variant, c.DefinitionVersion, c.AssignedAtMs }));
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO sp_assignments (experiment_id, user_key, variant, definition_version, assigned_at_ms)
                SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each($rows) WHERE true
                ON CONFLICT (experiment_id, user_key) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$rows", rows);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        List<StoredAssignment> stored;
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = """
                SELECT a.experiment_id, a.user_key, a.variant, a.definition_version, a.assigned_at_ms
                FROM json_each($rows) AS k JOIN sp_assignments a ON a.experiment_id = k.value ->> 0 AND a.user_key = k.value ->> 1
                """;
            select.Parameters.AddWithValue("$rows", rows);
            stored = await ReadAllAsync(select, ct).ConfigureAwait(false);
        }
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return stored;
    }

    /// <inheritdoc />
    public async Task<int> DeleteUserAsync(string userKey, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM sp_assignments WHERE user_key = $u";
        command.Parameters.AddWithValue("$u", userKey);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<List<StoredAssignment>> ReadAllAsync(SqliteCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredAssignment>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4)));
        return result;
    }
}
