namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// The node's current experiment catalog: the file catalog overlaid with definitions from the admin API (a stored
/// definition replaces the file's entry of the same id when its version is higher, or adds a new experiment).
/// Readers take <see cref="Current"/> once per decision; <see cref="Apply"/> swaps in a new immutable catalog
/// atomically, so a request never sees half an update.
/// </summary>
public sealed class ExperimentCatalogSource(ExperimentCatalog file)
{
    private volatile ExperimentCatalog _current = file;
    private readonly Lock _applying = new();

    /// <summary>The catalog from the file, before any admin definitions.</summary>
    public ExperimentCatalog File { get; } = file;

    /// <summary>The catalog in force.</summary>
    public ExperimentCatalog Current => _current;

    /// <summary>
    /// Rebuilds <see cref="Current"/> from the file catalog and the stored admin definitions. A stored document that
    /// no longer parses (e.g. written by a newer version) is skipped and returned so the caller can log it; the rest
    /// still apply. The catalog version is the file's plus the versions of the admin definitions in force: stored
    /// versions only grow and are never deleted, so it increases whenever the overlay changes.
    /// </summary>
    public IReadOnlyList<(StoredDefinition Definition, ExperimentDefinitionException Error)> Apply(IEnumerable<StoredDefinition> stored)
    {
        var byId = File.Experiments.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var order = File.Experiments.Select(e => e.Id).ToList();
        var errors = new List<(StoredDefinition, ExperimentDefinitionException)>();
        var overlaid = 0;
        foreach (var s in stored.OrderBy(s => s.ExperimentId, StringComparer.Ordinal))
        {
            ExperimentDefinition parsed;
            try { parsed = ExperimentCatalogLoader.ParseDefinition(s.Document, $"admin:{s.ExperimentId}"); }
            catch (ExperimentDefinitionException e) { errors.Add((s, e)); continue; }
            if (byId.TryGetValue(parsed.Id, out var existing) && existing.Version >= parsed.Version) continue;
            if (!byId.ContainsKey(parsed.Id)) order.Add(parsed.Id);
            byId[parsed.Id] = parsed;
            overlaid += parsed.Version;
        }
        var next = new ExperimentCatalog(File.Version + overlaid, order.Select(id => byId[id]));
        // Stored versions only grow, so a lower catalog version is a stale read racing a newer one: keep the newer.
        lock (_applying) if (next.Version >= _current.Version) _current = next;
        return errors;
    }
}
