using StreamPersonalization.Core.Rules;

namespace StreamPersonalization.Core.Segments;

/// <summary>
/// One segment of a catalog. <see cref="Index"/> is its bit in the membership mask returned by
/// <see cref="SegmentCatalog.Evaluate"/>, i.e. its position in the catalog file.
/// </summary>
public sealed record SegmentDefinition(string Id, string Description, CompiledRule Rule, int Index);
