using Microsoft.Data.Sqlite;

namespace StreamPersonalization.Storage.Sqlite;

/// <summary>
/// Opens one pooled connection per store call with the per-connection pragmas applied.
/// </summary>
/// <remarks>
/// A connection per call (rather than one shared connection behind a lock) lets readers run beside a
/// writer under WAL, and makes concurrent commits from several partitions' threads correct by
/// construction: each commit has its own connection and SQLite's write lock (<c>BEGIN IMMEDIATE</c>
/// plus <c>busy_timeout</c>) serializes them. Pooling keeps the open cost to a pragma round.
/// </remarks>
internal sealed class SqliteConnectionFactory
{
    private readonly string _connectionString;
    private readonly string _pragmas;

    /// <param name="synchronous">PRAGMA synchronous for this factory's connections (FULL unless a store opts out).</param>
    public SqliteConnectionFactory(SqliteStoreOptions options, string synchronous = "FULL")
    {
        var fullPath = Path.GetFullPath(options.Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds have passed; keep it in
            // line with busy_timeout so the configured value bounds the wait.
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();

        // synchronous=FULL: a committed checkpoint tells the pipeline that its input offsets are
        // consumed and its outputs are final, so it must survive power loss / OS crash, not only a
        // process crash (NORMAL in WAL mode may lose the last commits then). Commits are per
        // checkpoint, not per event, so the extra fsync per commit is cheap.
        _pragmas = $"PRAGMA busy_timeout = {(int)options.BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = {synchronous};";
        DatabasePath = fullPath;
    }

    public string DatabasePath { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = _pragmas;
            await pragma.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes pooled connections so the database file is released (e.g. to delete it).</summary>
    public void ReleasePool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
