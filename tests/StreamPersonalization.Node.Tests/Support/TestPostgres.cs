using Npgsql;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>
/// A fresh PostgreSQL schema per test, on the server named by <c>SP_TEST_POSTGRES</c> (set by the README's
/// test command via scripts/ensure-postgres.sh). Never skipped: without a server these tests fail loudly.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    private readonly string _admin;

    private TestPostgres(string admin, string schema)
    {
        _admin = admin;
        Schema = schema;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema }.ConnectionString;
    }

    public string Schema { get; }

    public string ConnectionString { get; }

    public static async Task<TestPostgres> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable("SP_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
            throw new InvalidOperationException("SP_TEST_POSTGRES is not set: run the tests through the README's test command (scripts/test.sh), which starts PostgreSQL, or export SP_TEST_POSTGRES=\"$(scripts/ensure-postgres.sh | tail -n1)\".");
        var schema = "sp_node_" + Guid.NewGuid().ToString("N")[..12];
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", conn)) await cmd.ExecuteNonQueryAsync();
        return new TestPostgres(admin, schema);
    }

    public async ValueTask DisposeAsync()
    {
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
