namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// One definition written through the admin API: the submitted document (JSON, which is also YAML, parsed by
/// <see cref="ExperimentCatalogLoader.ParseDefinition"/>) with its version.
/// </summary>
public sealed record StoredDefinition(string ExperimentId, int Version, string Document, long UpdatedAtMs)
{
    /// <inheritdoc />
    public override string ToString() => $"StoredDefinition({ExperimentId} v{Version}, {Document.Length} chars @{UpdatedAtMs})";
}

/// <summary>
/// Definitions from the admin API, shared by every node through the state store. Versions only move forward:
/// <see cref="PutAsync"/> refuses a version that is not greater than the stored one (optimistic concurrency:
/// two admins editing the same version cannot silently overwrite each other).
/// </summary>
public interface IExperimentDefinitionStore
{
    /// <summary>Every stored definition, ordered by experiment id.</summary>
    Task<IReadOnlyList<StoredDefinition>> ListDefinitionsAsync(CancellationToken ct = default);

    /// <summary>Stores the definition if no version ≥ its version is stored; returns false (and changes nothing) otherwise.</summary>
    Task<bool> PutDefinitionAsync(StoredDefinition definition, CancellationToken ct = default);
}
