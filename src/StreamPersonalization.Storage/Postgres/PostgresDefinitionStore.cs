using Npgsql;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Storage.Postgres;

/// <summary><see cref="IExperimentDefinitionStore"/> on the cluster's PostgreSQL (table <c>sp_experiment_definitions</c>).</summary>
public sealed class PostgresDefinitionStore : IExperimentDefinitionStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresDefinitionStore(PostgresStoreOptions options)
    {
        options.Validate();
        _dataSource = options.CreateDataSource();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredDefinition>> ListDefinitionsAsync(CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT experiment_id, version, document, updated_at_ms FROM sp_experiment_definitions ORDER BY experiment_id");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var result = new List<StoredDefinition>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            result.Add(new(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3)));
        return result;
    }

    /// <inheritdoc />
    public async Task<bool> PutDefinitionAsync(StoredDefinition d, CancellationToken ct = default)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO sp_experiment_definitions (experiment_id, version, document, updated_at_ms) VALUES ($1, $2, $3, $4)
            ON CONFLICT (experiment_id) DO UPDATE SET version = excluded.version, document = excluded.document, updated_at_ms = excluded.updated_at_ms
            WHERE excluded.version > sp_experiment_definitions.version
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.ExperimentId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = d.Version });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = d.Document });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = d.UpdatedAtMs });
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
