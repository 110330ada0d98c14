using Npgsql;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Storage.Postgres;
using Xunit.Abstractions;

namespace StreamPersonalization.Storage.Tests;

/// <summary>
/// Runs the store contract against <see cref="PostgresCheckpointStore"/>. Each storage is a fresh
/// schema (selected through <c>Search Path</c>) in the database of <see cref="PostgresTestDatabase"/>,
/// dropped afterwards, so tests never see each other's rows.
/// </summary>
public sealed class PostgresCheckpointStoreTests(ITestOutputHelper output) : CheckpointStoreContract(output)
{
    private readonly List<string> _schemas = [];

    protected override async Task<List<(string Action, string Subject)>> ReadAuditAsync(string location)
    {
        await using var connection = new NpgsqlConnection(location);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT action, subject FROM sp_audit ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    protected override Core.Experiments.Assignment.IAssignmentStore OpenAssignmentStore(string location) => new PostgresAssignmentStore(new PostgresStoreOptions { ConnectionString = location });

    protected override Core.Experiments.Definitions.IExperimentDefinitionStore OpenDefinitionStore(string location) => new PostgresDefinitionStore(new PostgresStoreOptions { ConnectionString = location });

    protected override async Task<string> CreateStorageAsync()
    {
        var schema = $"sp_test_{Guid.NewGuid():N}";
        await ExecuteAsync(PostgresTestDatabase.ConnectionString, $"CREATE SCHEMA {schema}");
        _schemas.Add(schema);
        return new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString) { SearchPath = schema }.ConnectionString;
    }

    protected override ICheckpointStore OpenStore(string location) =>
        new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = location, CommandTimeoutSeconds = 60 });

    protected override Task MakeEntityWritesFailAsync(string location, string key) => ExecuteAsync(location, $"""
        CREATE FUNCTION sp_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.key = '{key}' THEN RAISE EXCEPTION 'injected failure for test'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER sp_test_poison BEFORE INSERT OR UPDATE ON sp_entities
            FOR EACH ROW EXECUTE FUNCTION sp_test_poison();
        """);

    protected override async Task DeleteStoragesAsync()
    {
        foreach (var schema in _schemas)
            await ExecuteAsync(PostgresTestDatabase.ConnectionString, $"DROP SCHEMA IF EXISTS {schema} CASCADE");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
