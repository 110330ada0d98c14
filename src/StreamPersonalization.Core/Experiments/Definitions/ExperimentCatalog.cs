using System.Collections.Frozen;
using System.Collections.Immutable;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// An immutable, versioned set of validated experiments with lookup by id. Frozen so the per-request lookup on
/// the assignment hot path is as cheap as possible and the catalog can be swapped atomically on reload.
/// </summary>
public sealed class ExperimentCatalog
{
    private readonly FrozenDictionary<string, ExperimentDefinition> _byId;

    /// <summary>Creates a catalog; every definition is validated and ids must be distinct.</summary>
    public ExperimentCatalog(int version, IEnumerable<ExperimentDefinition> experiments)
    {
        if (version < 1)
            throw ExperimentDefinitionException.Create(null, null, null, "version", $"catalog version must be a positive integer but is {version}");
        var list = experiments.ToImmutableArray();
        var byId = new Dictionary<string, ExperimentDefinition>(StringComparer.Ordinal);
        foreach (var e in list)
        {
            e.Validate();
            if (!byId.TryAdd(e.Id, e))
                throw ExperimentDefinitionException.Create(null, null, e.Id, "id", "duplicate experiment id");
        }
        Version = version;
        Experiments = list;
        _byId = byId.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Catalog version from the file; positive.</summary>
    public int Version { get; }

    /// <summary>Experiments in file order.</summary>
    public ImmutableArray<ExperimentDefinition> Experiments { get; }

    /// <summary>Looks an experiment up by id.</summary>
    public bool TryGet(string id, out ExperimentDefinition experiment) => _byId.TryGetValue(id, out experiment!);

    /// <summary>The experiment with <paramref name="id"/>; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public ExperimentDefinition this[string id] => _byId[id];
}
