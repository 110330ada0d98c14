using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Rules;

namespace StreamPersonalization.Core.Segments;

/// <summary>
/// An immutable, versioned set of at most 64 segments. Membership of a user is a 64-bit mask (bit i =
/// segment with <see cref="SegmentDefinition.Index"/> i) so it can be stored, compared and diffed cheaply;
/// the <see cref="Version"/> travels with every transition so consumers know which definitions applied.
/// </summary>
public sealed class SegmentCatalog
{
    /// <summary>Upper bound imposed by the 64-bit membership mask.</summary>
    public const int MaxSegments = 64;

    private readonly SegmentMaskEvaluator _evaluate;
    private readonly Dictionary<string, SegmentDefinition> _byId;

    /// <summary>Creates a catalog; segments must be indexed 0..n-1 in order with distinct ids.</summary>
    public SegmentCatalog(int version, IEnumerable<SegmentDefinition> segments)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        var list = segments.ToArray();
        if (list.Length > MaxSegments)
            throw new ArgumentException($"A catalog holds at most {MaxSegments} segments, got {list.Length}.", nameof(segments));
        for (var i = 0; i < list.Length; i++)
        {
            if (list[i].Index != i)
                throw new ArgumentException($"Segment '{list[i].Id}' has index {list[i].Index} but is at position {i}.", nameof(segments));
        }
        Version = version;
        Segments = list;
        _evaluate = RuleCompiler.CompileMask(list.Select(s => s.Rule).ToArray());
        _byId = list.ToDictionary(s => s.Id, StringComparer.Ordinal);
    }

    /// <summary>Catalog version from the file; positive.</summary>
    public int Version { get; }

    /// <summary>Segments in index order.</summary>
    public IReadOnlyList<SegmentDefinition> Segments { get; }

    /// <summary>
    /// Membership bitmask for one feature vector. Hot path (once per event): a single call to all rules
    /// fused into one compiled delegate, no allocation.
    /// </summary>
    public ulong Evaluate(in UserFeatures features) => _evaluate(in features);

    /// <summary>Looks a segment up by id.</summary>
    public bool TryGet(string id, out SegmentDefinition segment) => _byId.TryGetValue(id, out segment!);

    /// <summary>Ids of the segments whose bits are set in <paramref name="mask"/>, in index order (bits beyond the catalog are ignored).</summary>
    public IReadOnlyList<string> IdsOf(ulong mask)
    {
        var ids = new List<string>();
        for (var i = 0; i < Segments.Count; i++)
        {
            if ((mask & (1UL << i)) != 0)
                ids.Add(Segments[i].Id);
        }
        return ids;
    }
}
