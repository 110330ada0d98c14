namespace StreamPersonalization.Storage.Sqlite;

/// <summary>Settings of <see cref="SqliteCheckpointStore"/> (configuration section <c>Storage:Sqlite</c>).</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "Storage:Sqlite";

    /// <summary>Longest accepted <see cref="BusyTimeout"/>: SQLite takes the busy timeout as an int of milliseconds.</summary>
    public static readonly TimeSpan MaxBusyTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>Database file; its directory is created if missing.</summary>
    /// <value>A non-empty file path, absolute or relative to the working directory. Default <c>data/sp.db</c>.</value>
    public string Path { get; set; } = "data/sp.db";

    /// <summary>
    /// How long a commit waits for another writer (another partition's shard or another process) to
    /// release the database lock before failing with SQLITE_BUSY.
    /// </summary>
    /// <value>Between 1 ms and <see cref="MaxBusyTimeout"/> (about 24.8 days). Default 30 s.</value>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Durability of sticky-assignment commits. Checkpoints always use FULL (their commit tells the pipeline its input
    /// is consumed). Assignments default to NORMAL: in WAL mode a commit then survives a process crash but not an OS
    /// crash or power loss, and skipping the fsync is what lets a first assignment answer within milliseconds.
    /// Answers lost that way are recomputed identically for fixed and factorial splits (same salt and weights); only
    /// a bandit draw or an answer under an older definition could change.
    /// </summary>
    /// <value><c>NORMAL</c> (default) or <c>FULL</c>.</value>
    public string AssignmentSynchronous { get; set; } = "NORMAL";

    /// <summary>Throws <see cref="OptionsValidationException"/> naming the first invalid key.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
            throw new OptionsValidationException($"{SectionName}:Path", "a non-empty file path, e.g. data/sp.db", Path);
        if (BusyTimeout < TimeSpan.FromMilliseconds(1) || BusyTimeout > MaxBusyTimeout)
            throw new OptionsValidationException($"{SectionName}:BusyTimeout", $"a duration between 00:00:00.001 and {MaxBusyTimeout}", BusyTimeout);
        if (AssignmentSynchronous is not ("NORMAL" or "FULL"))
            throw new OptionsValidationException($"{SectionName}:AssignmentSynchronous", "NORMAL | FULL", AssignmentSynchronous);
    }
}
