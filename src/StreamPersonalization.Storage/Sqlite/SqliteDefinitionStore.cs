using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary><see cref="IExperimentDefinitionStore"/> in the node's SQLite file (table <c>sp_experiment_definitions</c>).</summary>
public sealed class SqliteDefinitionStore(SqliteStoreOptions options) : IExperimentDefinitionStore
{
    private readonly SqliteConnectionFactory _connections = new(options);

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredDefinition>> ListDefinitionsAsync(CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT experiment_id, version, document, updated_at_ms FROM sp_experiment_definitions ORDER BY experiment_id";
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredDefinition>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3)));
        return result;
    }

    /// <inheritdoc />
    public async Task<bool> PutDefinitionAsync(StoredDefinition d, CancellationToken ct = default)
    {
        await using var connection = await _connections.OpenAsync(ct).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // The WHERE of the upsert makes a stale or repeated version a no-op (0 rows changed).
        command.CommandText = """
            INSERT INTO sp_experiment_definitions (experiment_id, version, document, updated_at_ms) VALUES ($id, $v, $doc, $at)
            ON CONFLICT (experiment_id) DO UPDATE SET version = excluded.version, document = excluded.document, updated_at_ms = excluded.updated_at_ms
            WHERE excluded.version > sp_experiment_definitions.version
            """;
        command.Parameters.AddWithValue("$id", d.ExperimentId);
        command.Parameters.AddWithValue("$v", d.Version);
        command.Parameters.AddWithValue("$doc", d.Document);
        command.Parameters.AddWithValue("$at", d.UpdatedAtMs);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }
}
