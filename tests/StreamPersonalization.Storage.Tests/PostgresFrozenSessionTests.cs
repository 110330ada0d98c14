using System.Diagnostics;
using Npgsql;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Storage.Postgres;

namespace StreamPersonalization.Storage.Tests;

/// <summary>
/// A node frozen inside a transaction (SIGSTOP, a stalled VM, a partition with its socket still open) must not hold its
/// locks for ever: the store's sessions carry <c>idle_in_transaction_session_timeout</c>, so the server ends the frozen
/// session and the node that took over can read and checkpoint.
/// </summary>
public sealed class PostgresFrozenSessionTests : IAsyncLifetime
{
    private readonly string _schema = $"sp_test_{Guid.NewGuid():N}";
    private string _location = "";

    public async Task InitializeAsync()
    {
        await ExecuteAsync(PostgresTestDatabase.ConnectionString, $"CREATE SCHEMA {_schema}");
        _location = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString) { SearchPath = _schema }.ConnectionString;
    }

    public Task DisposeAsync() => ExecuteAsync(PostgresTestDatabase.ConnectionString, $"DROP SCHEMA IF EXISTS {_schema} CASCADE");

    [Fact]
    public async Task IdleInTransactionSession_IsEndedByTheServer_OtherNodeProceeds()
    {
        var options = new PostgresStoreOptions { ConnectionString = _location, IdleInTransactionTimeoutSeconds = 1 };
        await using var survivor = new PostgresCheckpointStore(options);
        await survivor.InitializeAsync();

        // The frozen node: a session of the same options that locks the checkpoint table and then sends nothing.
        await using var frozenSource = options.CreateDataSource();
        await using var frozen = await frozenSource.OpenConnectionAsync();
        await using var transaction = await frozen.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("LOCK TABLE sp_checkpoints IN ACCESS EXCLUSIVE MODE", frozen, transaction))
            await command.ExecuteNonQueryAsync();

        var load = survivor.LoadCheckpointAsync("users", 0);
        // Blocked behind the lock until the server ends the idle session (1 s), not for ever.
        Assert.Null(await load.WaitAsync(TimeSpan.FromSeconds(20)));
        await using var after = new NpgsqlCommand("SELECT 1", frozen, transaction);
        await Assert.ThrowsAnyAsync<Exception>(() => after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task CommitBehindAFrozenOwnersRowLock_TerminatesThatSession_AndCommits()
    {
        var options = new PostgresStoreOptions { ConnectionString = _location, FenceBlockingSessionsAfterSeconds = 1, IdleInTransactionTimeoutSeconds = 3600 };
        await using var survivor = new PostgresCheckpointStore(options);
        await survivor.InitializeAsync();
        await survivor.CommitAsync(new CheckpointBatch("users", 3, null, 10, 1, null, [new EntityWrite("u", [1], null)]));

        // The zombie: the old owner's session, frozen while it holds the partition's checkpoint row (no server timeout
        // applies to it: it is a plain session without the store's idle-in-transaction timeout).
        await using var zombie = new NpgsqlConnection(_location);
        await zombie.OpenAsync();
        await using var transaction = await zombie.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("""SELECT next_offset FROM sp_checkpoints WHERE scope = 'users' AND "partition" = 3 FOR UPDATE""", zombie, transaction))
            Assert.Equal(10L, await command.ExecuteScalarAsync());

        var clock = Stopwatch.StartNew();
        await survivor.CommitAsync(new CheckpointBatch("users", 3, 10, 20, 2, null, [new EntityWrite("u", [2], null)])).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(0.9), $"terminated before the zombie had waited on its client for 1 s ({clock.Elapsed})");
        Assert.Equal(1, survivor.SessionsFenced);
        Assert.Equal(20, (await survivor.LoadCheckpointAsync("users", 3))!.NextOffset);
        Assert.Equal([2], await survivor.LoadOwnedEntityAsync("users", 3, "u", 20));
        await using var after = new NpgsqlCommand("SELECT 1", zombie, transaction);
        await Assert.ThrowsAnyAsync<Exception>(() => after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task CommitBehindABusyLiveOwner_Waits_AndTerminatesNobody()
    {
        var options = new PostgresStoreOptions { ConnectionString = _location, FenceBlockingSessionsAfterSeconds = 1 };
        await using var store = new PostgresCheckpointStore(options);
        await store.InitializeAsync();
        await store.CommitAsync(new CheckpointBatch("users", 0, null, 5, 1, null, []));

        // A live session holds the row and works for 3 s (the server waits on it, not on its client): not a zombie.
        await using var busy = new NpgsqlConnection(_location);
        await busy.OpenAsync();
        await using var transaction = await busy.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("""SELECT next_offset FROM sp_checkpoints WHERE scope = 'users' AND "partition" = 0 FOR UPDATE""", busy, transaction))
            await command.ExecuteScalarAsync();
        var work = new NpgsqlCommand("SELECT pg_sleep(3)", busy, transaction).ExecuteScalarAsync();

        var clock = Stopwatch.StartNew();
        var commit = store.CommitAsync(new CheckpointBatch("users", 0, 5, 9, 1, null, []));
        await work;
        await transaction.RollbackAsync();
        await commit.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(2), $"the commit did not wait for the live owner ({clock.Elapsed})");
        Assert.Equal(0, store.SessionsFenced);
        Assert.Equal(9, (await store.LoadCheckpointAsync("users", 0))!.NextOffset);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3601)]
    public void Validate_IdleInTransactionTimeoutOutOfRange_NamesTheKey(int seconds)
    {
        var e = Assert.Throws<OptionsValidationException>(() =>
            new PostgresStoreOptions { ConnectionString = "Host=localhost", IdleInTransactionTimeoutSeconds = seconds }.Validate());
        Assert.Contains("Storage:Postgres:IdleInTransactionTimeoutSeconds", e.Message);
        var fence = Assert.Throws<OptionsValidationException>(() =>
            new PostgresStoreOptions { ConnectionString = "Host=localhost", FenceBlockingSessionsAfterSeconds = seconds }.Validate());
        Assert.Contains("Storage:Postgres:FenceBlockingSessionsAfterSeconds", fence.Message);
    }

    [Fact]
    public async Task CreateDataSource_KeepsServerOptionsOfTheConnectionString()
    {
        var options = new PostgresStoreOptions
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(_location) { Options = "-c statement_timeout=7000" }.ConnectionString,
            IdleInTransactionTimeoutSeconds = 3,
        };
        await using var source = options.CreateDataSource();
        await using var connection = await source.OpenConnectionAsync();
        Assert.Equal("7s", await ScalarAsync(connection, "SHOW statement_timeout"));
        Assert.Equal("3s", await ScalarAsync(connection, "SHOW idle_in_transaction_session_timeout"));
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string?)await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
