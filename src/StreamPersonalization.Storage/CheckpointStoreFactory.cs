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
}
