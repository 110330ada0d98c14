using Npgsql;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Node;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// A fresh store shared by the node processes of one scale benchmark run: a new schema in the PostgreSQL database
/// given by <c>--postgres</c> (dropped afterwards), or else a new SQLite file that every node opens.
/// The benchmark reads the checkpoints through its own connection to follow progress.
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private readonly string? _adminConnection;
    private readonly string? _schema;

    private BenchStore(ICheckpointStore store, IReadOnlyList<string> nodeArgs, string description, string? adminConnection, string? schema)
    {
        Store = store;
        NodeArgs = nodeArgs;
        Description = description;
        _adminConnection = adminConnection;
        _schema = schema;
    }

    public ICheckpointStore Store { get; }

    /// <summary>The <c>sp run</c> arguments that point a node at this store.</summary>
    public IReadOnlyList<string> NodeArgs { get; }

    /// <summary>"PostgreSQL" or "SQLite (one file)", for the result table.</summary>
    public string Description { get; }

    public static async Task<BenchStore> CreateAsync(string? postgres, string directory, string name)
    {
        if (postgres is null)
        {
            var path = Path.Combine(directory, $"{name}.db");
            var sqlite = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
            await sqlite.InitializeAsync();
            return new BenchStore(sqlite, ["--store", "sqlite", "--set", $"Storage:Sqlite:Path={path}"], "SQLite (one file shared by the nodes)", null, null);
        }
        var schema = $"sp_bench_{name.Replace('-', '_')}_{Guid.NewGuid():N}"[..40];
        await using (var conn = new NpgsqlConnection(postgres))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var connection = new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }.ConnectionString;
        var store = new PostgresCheckpointStore(new PostgresStoreOptions { ConnectionString = connection });
        await store.InitializeAsync();
        return new BenchStore(store, ["--store", "postgres", "--postgres", connection], "PostgreSQL (shared)", postgres, schema);
    }

    /// <summary>Records covered by the checkpoints (sum of the partitions' next offsets).</summary>
    public async Task<long> CheckpointedAsync(CancellationToken ct) =>
        (await Store.LoadCheckpointsAsync(StreamNode.Scope, ct)).Sum(c => c.NextOffset);

    /// <summary>Next offset per checkpointed partition.</summary>
    public async Task<Dictionary<int, long>> OffsetsAsync(CancellationToken ct) =>
        (await Store.LoadCheckpointsAsync(StreamNode.Scope, ct)).ToDictionary(c => c.Partition, c => c.NextOffset);

    public async Task<long> CountEntitiesAsync(CancellationToken ct)
    {
        long n = 0;
        await foreach (var _ in Store.ReadEntitiesAsync(StreamNode.Scope, ct: ct)) n++;
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (_adminConnection is null) return;
        await using var conn = new NpgsqlConnection(_adminConnection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
