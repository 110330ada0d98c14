using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Storage;

/// <summary>
/// Picks the checkpoint store named by configuration, so hosts depend on <see cref="ICheckpointStore"/>
/// only and switch between a local file (tests, single node) and a shared PostgreSQL (cluster).
/// </summary>
public static class CheckpointStoreFactory
{
    /// <summary>Configuration key of the provider name.</summary>
    public const string ProviderKey = "Storage:Provider";

    /// <summary>Provider names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Providers { get; } = ["sqlite", "postgres"];

    /// <summary>Creates an uninitialized store; call <see cref="ICheckpointStore.InitializeAsync"/> before use.</summary>
    /// <param name="provider"><c>sqlite</c> or <c>postgres</c> (case-insensitive).</param>
    /// <param name="sqlite">Options used when the provider is <c>sqlite</c>; defaults when null.</param>
    /// <param name="postgres">Options used when the provider is <c>postgres</c>; required then.</param>
    public static ICheckpointStore Create(string provider, SqliteStoreOptions? sqlite = null, PostgresStoreOptions? postgres = null)
    {
        switch (provider?.Trim().ToLowerInvariant())
        {
            case "sqlite":
                return new SqliteCheckpointStore(sqlite ?? new SqliteStoreOptions());
            case "postgres":
                return new PostgresCheckpointStore(postgres ?? new PostgresStoreOptions());
            default:
                throw new OptionsValidationException(ProviderKey, string.Join(" | ", Providers), provider);
        }
    }

    /// <summary>The assignment store of the provider (same database; tables are created by the checkpoint store's initialisation).</summary>
    public static Core.Experiments.Assignment.IAssignmentStore CreateAssignmentStore(string provider, SqliteStoreOptions? sqlite = null, PostgresStoreOptions? postgres = null) =>
        provider?.Trim().ToLowerInvariant() switch
        {
            "sqlite" => new SqliteAssignmentStore(sqlite ?? new SqliteStoreOptions()),
            "postgres" => new PostgresAssignmentStore(postgres ?? new PostgresStoreOptions()),
            _ => throw new OptionsValidationException(ProviderKey, string.Join(" | ", Providers), provider),
        };

    /// <summary>The admin definition store of the provider (same database as the checkpoints).</summary>
    public static Core.Experiments.Definitions.IExperimentDefinitionStore CreateDefinitionStore(string provider, SqliteStoreOptions? sqlite = null, PostgresStoreOptions? postgres = null) =>
        provider?.Trim().ToLowerInvariant() switch
        {
            "sqlite" => new SqliteDefinitionStore(sqlite ?? new SqliteStoreOptions()),
            "postgres" => new PostgresDefinitionStore(postgres ?? new PostgresStoreOptions()),
            _ => throw new OptionsValidationException(ProviderKey, string.Join(" | ", Providers), provider),
        };

    /// <summary>The cohort release and privacy ledger store of the provider (same database; tables are created by the checkpoint store's initialisation).</summary>
    public static Core.Privacy.Cohorts.ICohortReleaseStore CreateCohortReleaseStore(string provider, SqliteStoreOptions? sqlite = null, PostgresStoreOptions? postgres = null) =>
        provider?.Trim().ToLowerInvariant() switch
        {
            "sqlite" => new SqliteCohortReleaseStore(sqlite ?? new SqliteStoreOptions()),
            "postgres" => new PostgresCohortReleaseStore(postgres ?? new PostgresStoreOptions()),
            _ => throw new OptionsValidationException(ProviderKey, string.Join(" | ", Providers), provider),
        };
}
