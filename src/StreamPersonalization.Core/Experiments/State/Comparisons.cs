using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Each treatment arm against the control: the fixed-horizon test of the metric kind (two-proportion z with a
/// Newcombe interval for binary, Welch t with a normal interval for continuous), Holm and Benjamini–Hochberg
/// adjustment across treatments (several arms share one control, so raw p-values overstate evidence), the
/// CUPED-adjusted difference when covariates were sent, and the always-valid mSPRT p-value kept in the state.
/// Binary metrics add the 2×2 test chosen by expected counts (Fisher exact for small counts), continuous metrics a
/// Mann–Whitney U on the value histograms.
/// </summary>
internal static class Comparisons
{
    public static ComparisonSnapshot[] Compute(ExperimentState state, ExperimentShape shape, ArmAggregate[] arms, ArmMoments[] m, SnapshotOptions o)
    {
        var z = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, 1 - (1 - o.Confidence) / 2);
        var cuped = CupedArms.Compute(arms, m);
        var results = new ComparisonSnapshot[arms.Length - 1];
        for (var i = 1; i < arms.Length; i++)
        {
            var errors = new List<string>();
            var (test, stat, p, diff) = shape.PrimaryMetric == MetricKind.Binary ? Binary(arms[i], arms[0], o, errors) : Continuous(m[i], m[0], z, errors);
            var (cupedDiff, cupedP) = cuped.Difference(i, z);
            if (cupedDiff.Error is not null && cupedDiff.Error != CupedArms.NoCovariates) errors.Add(cupedDiff.Error);
            var hasLooks = state.Msprt.TryGetValue(arms[i].VariantId, out var ms);
            if (!hasLooks || ms!.Looks == 0) errors.Add("msprt.NoValidLooks");
            var count = shape.PrimaryMetric == MetricKind.Binary ? CountTests.Pair(arms[i], arms[0], p) : null;
            var rank = shape.PrimaryMetric == MetricKind.Continuous ? RankTests.Pair(arms[i], arms[0]) : null;
            if ((count?.Error ?? rank?.Error) is { } extra) errors.Add(extra);
            results[i - 1] = new(arms[i].VariantId, arms[0].VariantId, test, stat, p, diff, double.NaN, double.NaN,
                cupedDiff, cupedP, cuped.VarianceReduction, ms?.PValue ?? 1.0, ms?.Looks ?? 0, errors) { CountTest = count, MannWhitney = rank };
        }
        return Adjust(results);
    }

    private static (string, double, double, Estimate) Binary(ArmAggregate t, ArmAggregate c, SnapshotOptions o, List<string> errors)
    {
        var r = ProportionTests.TwoProportionZ(t.Conversions, t.Users, c.Conversions, c.Users);
        if (!r.IsValid) errors.Add($"z.{r.Error}");
        var ci = Intervals.NewcombeDifference(t.Conversions, t.Users, c.Conversions, c.Users, o.Confidence);
        var diff = ci.IsValid ? new Estimate(ci.Estimate, ci.Lower, ci.Upper) : Estimate.Missing($"newcombe.{ci.Error}");
        if (diff.Error is not null) errors.Add(diff.Error);
        return ("two-proportion-z", r.Z, r.PValue, diff);
    }

    private static (string, double, double, Estimate) Continuous(ArmMoments t, ArmMoments c, double z, List<string> errors)
    {
        var r = WelchT.Test(t.N, t.MeanY, t.VarY, c.N, c.MeanY, c.VarY);
        if (!r.IsValid) { errors.Add($"welch.{r.Error}"); return ("welch-t", r.T, r.PValue, Estimate.Missing($"welch.{r.Error}")); }
        var se = Math.Sqrt(t.VarY / t.N + c.VarY / c.N);
        return ("welch-t", r.T, r.PValue, new(r.Difference, r.Difference - z * se, r.Difference + z * se));
    }

    /// <summary>Holm and BH over the valid raw p-values only; comparisons without a p-value keep NaN.</summary>
    private static ComparisonSnapshot[] Adjust(ComparisonSnapshot[] results)
    {
        var valid = Enumerable.Range(0, results.Length).Where(i => double.IsFinite(results[i].PValue)).ToArray();
        if (valid.Length == 0) return results;
        var raw = valid.Select(i => results[i].PValue).ToArray();
        var holm = MultipleComparisons.Holm(raw);
        var bh = MultipleComparisons.BenjaminiHochberg(raw);
        for (var j = 0; j < valid.Length; j++)
        {
            var i = valid[j];
            results[i] = results[i] with
            {
                HolmPValue = holm.IsValid ? holm.Values[j] : double.NaN,
                BhPValue = bh.IsValid ? bh.Values[j] : double.NaN,
            };
        }
        return results;
    }
}
