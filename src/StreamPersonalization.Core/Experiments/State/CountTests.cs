using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>Contingency-table tests of a binary metric: over all arms (chi-square) and per treatment (Fisher when counts are small).</summary>
internal static class CountTests
{
    /// <summary>Cochran's rule: the chi-square/z approximation needs every expected count ≥ 5.</summary>
    public const double FisherBelowExpected = 5;

    // X² on arms × {converted, not}; min Eᵢⱼ = min rowᵢ · min colⱼ / N.
    public static ChiSquareSnapshot? Overall(ArmAggregate[] arms, MetricKind metric)
    {
        if (metric != MetricKind.Binary) return null;
        var table = new long[arms.Length, 2];
        for (var i = 0; i < arms.Length; i++) { table[i, 0] = arms[i].Conversions; table[i, 1] = arms[i].Users - arms[i].Conversions; }
        var r = ChiSquare.Independence(table);
        long n = arms.Sum(a => a.Users), x = arms.Sum(a => a.Conversions);
        var minExpected = n > 0 ? (double)arms.Min(a => a.Users) * Math.Min(x, n - x) / n : double.NaN;
        return new(r.Statistic, r.DegreesOfFreedom, r.PValue, minExpected, r.IsValid ? null : $"chisquare.{r.Error}");
    }

    // Table [[xₜ, nₜ − xₜ], [x_c, n_c − x_c]]; min E = min(nₜ, n_c)·min(x, N − x)/N; Fisher if min E < 5, else the z test's p.
    public static CountTestSnapshot Pair(ArmAggregate t, ArmAggregate c, double zPValue)
    {
        if (t.Conversions < 0 || c.Conversions < 0 || t.Conversions > t.Users || c.Conversions > c.Users)
            return new("none", double.NaN, double.NaN, "count.InvalidInput");
        if (t.Users == 0 || c.Users == 0) return new("none", double.NaN, double.NaN, "count.ZeroSampleSize");
        long n = t.Users + c.Users, x = t.Conversions + c.Conversions;
        var minExpected = (double)Math.Min(t.Users, c.Users) * Math.Min(x, n - x) / n;
        if (minExpected >= FisherBelowExpected) return new("two-proportion-z", minExpected, zPValue, null);
        var f = FisherExact.TwoSided(t.Conversions, t.Users - t.Conversions, c.Conversions, c.Users - c.Conversions);
        return new("fisher-exact", minExpected, f.PValue, f.IsValid ? null : $"fisher.{f.Error}");
    }
}
