using Microsoft.Data.Sqlite;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Storage.Sqlite;
using Xunit.Abstractions;

namespace StreamPersonalization.Storage.Tests;

/// <summary>Runs the store contract against <see cref="SqliteCheckpointStore"/>, one temp directory per storage.</summary>
public sealed class SqliteCheckpointStoreTests(ITestOutputHelper output) : CheckpointStoreContract(output)
{
    private readonly List<string> _directories = [];

    /// <remarks>The file sits in a directory that does not exist yet, so the store's directory creation is exercised too.</remarks>
    protected override async Task<List<(string Action, string Subject)>> ReadAuditAsync(string location)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = location, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT action, subject FROM sp_audit ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    protected override Core.Experiments.Assignment.IAssignmentStore OpenAssignmentStore(string location) => new SqliteAssignmentStore(new SqliteStoreOptions { Path = location });

    protected override Core.Experiments.Definitions.IExperimentDefinitionStore OpenDefinitionStore(string location) => new SqliteDefinitionStore(new SqliteStoreOptions { Path = location });

    protected override Task<string> CreateStorageAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sp-storage-tests", Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        return Task.FromResult(Path.Combine(directory, "nested", "sp.db"));
    }

    protected override ICheckpointStore OpenStore(string location) =>
        new SqliteCheckpointStore(new SqliteStoreOptions { Path = location, BusyTimeout = TimeSpan.FromSeconds(30) });

    protected override async Task MakeEntityWritesFailAsync(string location, string key)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = location, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TRIGGER sp_test_poison BEFORE INSERT ON sp_entities
            WHEN NEW.key = $key
            BEGIN SELECT RAISE(ABORT, 'injected failure for test'); END;
            """.Replace("$key", $"'{key}'");
        await command.ExecuteNonQueryAsync();
    }

    protected override Task DeleteStoragesAsync()
    {
        foreach (var directory in _directories.Where(Directory.Exists))
            Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }
}
