using Npgsql;

namespace StreamPersonalization.Storage.Postgres;

/// <summary>Settings of <see cref="PostgresCheckpointStore"/> (configuration section <c>Storage:Postgres</c>).</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "Storage:Postgres";

    /// <summary>Upper bound of <see cref="CommandTimeoutSeconds"/>: one hour, far above any sane checkpoint.</summary>
    public const int MaxCommandTimeoutSeconds = 3600;

    /// <summary>Npgsql connection string. Tables live in the first schema of its <c>Search Path</c> (default <c>public</c>).</summary>
    /// <value>A non-empty Npgsql connection string, e.g. <c>Host=127.0.0.1;Username=sp;Password=sp;Database=sp</c>. No default.</value>
    public string ConnectionString { get; set; } = "";

    /// <summary>Per-statement timeout; a 20k-entity upsert must fit in it.</summary>
    /// <value>Seconds, 1 to <see cref="MaxCommandTimeoutSeconds"/>. Default 30.</value>
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// <c>synchronous_commit</c> of sticky-assignment transactions (checkpoints always use the server's setting).
    /// <c>off</c> (default): a commit returns before its WAL is flushed; a PostgreSQL crash may lose the last
    /// moments of assignments (never corrupts), which fixed and factorial splits recompute identically.
    /// </summary>
    /// <value><c>off</c> (default) or <c>on</c>.</value>
    public string AssignmentSynchronousCommit { get; set; } = "off";

    /// <summary>Throws <see cref="OptionsValidationException"/> naming the first invalid key.</summary>
    public void Validate()
    {
        const string allowedConnectionString = "a non-empty Npgsql connection string, e.g. Host=127.0.0.1;Username=sp;Password=sp;Database=sp";
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new OptionsValidationException($"{SectionName}:ConnectionString", allowedConnectionString, ConnectionString);
        try
        {
            _ = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The raw value may hold a password: report only the parser's complaint.
            throw new OptionsValidationException($"{SectionName}:ConnectionString", $"{allowedConnectionString} ({e.Message})", "(unparsable, not shown)");
        }
        if (CommandTimeoutSeconds is < 1 or > MaxCommandTimeoutSeconds)
            throw new OptionsValidationException($"{SectionName}:CommandTimeoutSeconds", $"an integer from 1 to {MaxCommandTimeoutSeconds}", CommandTimeoutSeconds);
        if (AssignmentSynchronousCommit is not ("off" or "on"))
            throw new OptionsValidationException($"{SectionName}:AssignmentSynchronousCommit", "off | on", AssignmentSynchronousCommit);
    }
}
