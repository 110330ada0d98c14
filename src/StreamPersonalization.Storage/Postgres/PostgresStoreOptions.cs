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
    /// PostgreSQL's <c>idle_in_transaction_session_timeout</c> for the node's sessions: the server ends a session that
    /// sits inside an open transaction this long. A node frozen mid-checkpoint (SIGSTOP, a stalled VM, a network
    /// partition with the socket still open) would otherwise hold its row locks for ever, and the node that took over its
    /// partitions could not checkpoint them. Must exceed the longest pause between statements of one checkpoint.
    /// </summary>
    /// <value>Seconds, 0 to <see cref="MaxCommandTimeoutSeconds"/>. Default 10. 0: not set (needed behind PgBouncer or
    /// other poolers that refuse the <c>options</c> startup parameter; set the timeout on the server instead).</value>
    public int IdleInTransactionTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long a checkpoint waits behind another session that holds its partition's checkpoint row before it
    /// terminates that session (<c>pg_terminate_backend</c>, allowed for sessions of the same role). Only a shard
    /// that lost its partition without knowing it holds that row while the new owner checkpoints; frozen in the middle
    /// of sending a statement, it is not idle, so <see cref="IdleInTransactionTimeoutSeconds"/> does not end it.
    /// </summary>
    /// <value>Seconds, 0 to <see cref="MaxCommandTimeoutSeconds"/>; keep it below <see cref="CommandTimeoutSeconds"/>. Default 5.
    /// 0: off (behind a pooler the client's process id is not the server's, so there the fence cannot find the blocker).</value>
    public int FenceBlockingSessionsAfterSeconds { get; set; } = 5;

    /// <summary>
    /// <c>synchronous_commit</c> of sticky-assignment transactions (checkpoints always use the server's setting).
    /// <c>off</c> (default): a commit returns before its WAL is flushed; a PostgreSQL crash may lose the last
    /// moments of assignments (never corrupts), which fixed and factorial splits recompute identically.
    /// </summary>
    /// <value><c>off</c> (default) or <c>on</c>.</value>
    public string AssignmentSynchronousCommit { get; set; } = "off";

    /// <summary>A pooled data source for these options (command timeout, idle-in-transaction timeout); call <see cref="Validate"/> first.</summary>
    public NpgsqlDataSource CreateDataSource()
    {
        var builder = new NpgsqlDataSourceBuilder(ConnectionString);
        builder.ConnectionStringBuilder.CommandTimeout = CommandTimeoutSeconds;
        if (IdleInTransactionTimeoutSeconds > 0)
        {
            // Appended to any server options the connection string already sets.
            var idle = $"-c idle_in_transaction_session_timeout={IdleInTransactionTimeoutSeconds * 1000}";
            builder.ConnectionStringBuilder.Options = string.IsNullOrWhiteSpace(builder.ConnectionStringBuilder.Options) ? idle : $"{builder.ConnectionStringBuilder.Options} {idle}";
        }
        return builder.Build();
    }

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
        if (IdleInTransactionTimeoutSeconds is < 0 or > MaxCommandTimeoutSeconds)
            throw new OptionsValidationException($"{SectionName}:IdleInTransactionTimeoutSeconds", $"an integer from 0 (off) to {MaxCommandTimeoutSeconds}", IdleInTransactionTimeoutSeconds);
        if (FenceBlockingSessionsAfterSeconds is < 0 or > MaxCommandTimeoutSeconds)
            throw new OptionsValidationException($"{SectionName}:FenceBlockingSessionsAfterSeconds", $"an integer from 0 (off) to {MaxCommandTimeoutSeconds}", FenceBlockingSessionsAfterSeconds);
        if (AssignmentSynchronousCommit is not ("off" or "on"))
            throw new OptionsValidationException($"{SectionName}:AssignmentSynchronousCommit", "off | on", AssignmentSynchronousCommit);
    }
}
