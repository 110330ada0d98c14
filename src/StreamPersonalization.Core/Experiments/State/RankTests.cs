using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>Mann–Whitney U of a treatment against the control from the arms' value histograms.</summary>
internal static class RankTests
{
    /// <summary>An arm with users but no histogram: its users were counted from version-1 data.</summary>
    public const string NoHistogram = "mwu.NoHistogram";

    /// <summary>An arm whose histogram does not account for every user (partly version-1 data) or has negative counts.</summary>
    public const string HistogramIncomplete = "mwu.HistogramIncomplete";

    public static RankTestSnapshot Pair(ArmAggregate t, ArmAggregate c)
    {
        foreach (var arm in (ReadOnlySpan<ArmAggregate>)[t, c])
        {
            if (arm.Users > 0 && arm.Histogram.Count == 0) return Missing(NoHistogram);
            if (arm.Histogram.Total != arm.Users || arm.Histogram.HasNegativeCounts) return Missing(HistogramIncomplete);
        }
        var r = MannWhitney.TestBinned(t.Histogram.Dense(), c.Histogram.Dense());
        return new(r.U, r.Z, r.PValue, r.IsValid ? null : $"mwu.{r.Error}");
    }

    private static RankTestSnapshot Missing(string error) => new(double.NaN, double.NaN, double.NaN, error);
}
