using System.Text.Json;
using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Experiments.Assignment;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// <see cref="IAssignmentStore"/> in the node's SQLite file (table <c>sp_assignments</c>, created by
/// <see cref="SqliteCheckpointStore.InitializeAsync"/>). First writer wins because SQLite serializes writers
/// (<c>BEGIN IMMEDIATE</c>) and the insert skips an existing key.
/// </summary>
public sealed class SqliteAssignmentStore(SqliteStoreOptions options) : IAssignmentStore
{
    private readonly SqliteConnectionFactory _connections = new(options);

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
    public async Task<IReadOnlyList<StoredAssignment>> AddIfAbsentAsync(IReadOnlyList<StoredAssignment> candidates, CancellationToken ct = default)
    {
        if (candidates.Count == 0) return [];
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO sp_assignments (experiment_id, user_key, variant, definition_version, assigned_at_ms)
            VALUES ($e, $u, $v, $dv, $at) ON CONFLICT (experiment_id, user_key) DO NOTHING
            """;
        var (e, u, v, dv, at) = (insert.Parameters.Add("$e", SqliteType.Text), insert.Parameters.Add("$u", SqliteType.Text),
            insert.Parameters.Add("$v", SqliteType.Text), insert.Parameters.Add("$dv", SqliteType.Integer), insert.Parameters.Add("$at", SqliteType.Integer));
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = """
            SELECT experiment_id, user_key, variant, definition_version, assigned_at_ms FROM sp_assignments
            WHERE experiment_id = $e AND user_key = $u
            """;
        var (se, su) = (select.Parameters.Add("$e", SqliteType.Text), select.Parameters.Add("$u", SqliteType.Text));
        var stored = new List<StoredAssignment>(candidates.Count);
        foreach (var c in candidates)
        {
            (e.Value, u.Value, v.Value, dv.Value, at.Value) = (c.ExperimentId, c.UserKey, c.Variant, c.DefinitionVersion, c.AssignedAtMs);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            (se.Value, su.Value) = (c.ExperimentId, c.UserKey);
            stored.AddRange(await ReadAllAsync(select, ct).ConfigureAwait(false));
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
