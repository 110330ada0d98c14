using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Core.Experiments.Assignment;

/// <summary>
/// Evaluates a <see cref="TargetingRule"/> against what the node knows about a user: the segment membership mask
/// from the user entity, and the latest country and device. Pure and allocation-free.
/// </summary>
public static class Targeting
{
    /// <summary>
    /// True when the user is in every listed segment, and in one of the listed countries and devices (empty lists
    /// do not restrict; comparison ignores case). Fails closed: a segment id the catalog does not know, or a
    /// missing country/device when the rule lists some, does not match, so a catalog change can never widen an
    /// experiment's audience.
    /// </summary>
    public static bool Matches(TargetingRule rule, ulong segmentMask, SegmentCatalog segments, string? country, string? device)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(segments);
        foreach (var id in rule.Segments)
        {
            if (!segments.TryGet(id, out var segment) || (segmentMask & (1UL << segment.Index)) == 0)
                return false;
        }
        return AnyOf(rule.Countries, country) && AnyOf(rule.Devices, device);
    }

    private static bool AnyOf(System.Collections.Immutable.ImmutableArray<string> allowed, string? value)
    {
        if (allowed.IsDefaultOrEmpty)
            return true;
        if (value is null)
            return false;
        foreach (var a in allowed)
            if (string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }
}
