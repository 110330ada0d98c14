using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Privacy;

/// <summary>
/// Empirical ε check: run the release many times on two neighbouring datasets (differing in one user) and compare
/// histograms of what is published. ε-DP means P[out ∈ bin | D] ≤ e^ε · P[out ∈ bin | D′] for every bin, both ways.
/// For each bin with enough mass the log ratio has standard error √(1/a − 1/N + 1/b − 1/N) (delta method for two
/// multinomial proportions); we require |log ratio| − z·se ≤ ε, with z Bonferroni-corrected over the compared bins so
/// the whole check holds at 99 % family-wise confidence. Seeded (deterministic) and about 1 s for 2 × 200,000 releases.
/// </summary>
public sealed class EmpiricalPrivacyTests(ITestOutputHelper output)
{
    private const int Releases = 200_000;
    private const double FamilyAlpha = 0.01;
    private const int MinBinCount = 200;

    internal sealed record LossEstimate(double MaxPointLogRatio, double MaxLowerBound, int BinsCompared)
    {
        public override string ToString() => $"max |ln ratio| {MaxPointLogRatio:F4}, max lower bound {MaxLowerBound:F4}, over {BinsCompared} bins";
    }

    internal static LossEstimate Estimate(long[] a, long[] b)
    {
        double na = a.Sum(), nb = b.Sum();
        var bins = Enumerable.Range(0, a.Length).Where(i => a[i] >= MinBinCount || b[i] >= MinBinCount).ToList();
        var z = Normal.InvCDF(0, 1, 1 - FamilyAlpha / (2.0 * Math.Max(1, bins.Count)));
        double maxPoint = 0, maxLower = 0;
        foreach (var i in bins)
        {
            if (a[i] == 0 || b[i] == 0) return new(double.PositiveInfinity, double.PositiveInfinity, bins.Count);   // mass on one side only
            var logRatio = Math.Abs(Math.Log(a[i] / na) - Math.Log(b[i] / nb));
            var se = Math.Sqrt(1.0 / a[i] - 1 / na + 1.0 / b[i] - 1 / nb);
            maxPoint = Math.Max(maxPoint, logRatio);
            maxLower = Math.Max(maxLower, logRatio - z * se);
        }
        return new(maxPoint, maxLower, bins.Count);
    }

    private static long[] RevenueHistogram(CohortAggregator agg, CohortTotals totals, ulong firstSeed, double lo, double width, int bins)
    {
        var h = new long[bins + 3];   // [0] suppressed, [1] underflow, [2..] bins, [^1] overflow
        var acc = CohortAggregatorTests.Unlimited();
        for (var i = 0; i < Releases; i++)
        {
            var r = agg.Release(totals, "p", firstSeed + (ulong)i, acc);
            if (r.Cohorts.Count == 0) { h[0]++; continue; }
            var k = (int)Math.Floor((r.Cohorts[0].Revenue - lo) / width);
            h[k < 0 ? 1 : k >= bins ? bins + 2 : k + 2]++;
        }
        return h;
    }

    [Fact]
    public void Release_RevenueOfNeighbouringDatasets_HistogramRatioWithinEToTheEpsilon()
    {
        // ε = 1 per release, so revenue gets ε/4 = 0.25 and b = 1000/0.25 = 4000. D′ adds one user whose revenue
        // (10,000) and session (99,999 s) are far above the clips: clipping must bound their influence to Δ = 1000.
        var agg = new CohortAggregator(new CohortReleaseOptions { Bands = CohortAggregatorTests.SingleCohort, MaxRevenue = 1000 });
        var cohort = new CohortKey(0, 0, 0);
        var d = CohortAggregatorTests.Users("u", 300, cohort, 200).ToList();   // true revenue 60,000
        var dPrime = d.Append(new UserContribution("extra", cohort, 99_999, true, 10_000)).ToList();
        var a = RevenueHistogram(agg, agg.Aggregate(d), 1, 30_000, 1000, 61);
        var b = RevenueHistogram(agg, agg.Aggregate(dPrime), 10_000_001, 30_000, 1000, 61);
        var loss = Estimate(a, b);
        Assert.True(loss.MaxLowerBound <= 0.25, loss.ToString());
        // Tightness: above 61,000 (bins 33…) the Laplace ratio is exactly e^0.25 (½e^0 vs ½e^−¼), so the pooled tail
        // must show it: an over-noised release would fall short, a non-clipping one overshoot. 4 standard errors.
        double tailA = a[33..].Sum(), tailB = b[33..].Sum();
        var pooled = Math.Log(tailB / tailA);
        var se = Math.Sqrt(1 / tailA - 1.0 / Releases + 1 / tailB - 1.0 / Releases);
        output.WriteLine($"revenue, ε_stat = 0.25 (e^ε = {Math.Exp(0.25):F4}): {loss}; pooled upper tail ln ratio {pooled:F4} ± {se:F4}");
        Assert.InRange(pooled, 0.25 - 4 * se, 0.25 + 4 * se);
    }

    [Fact]
    public void Release_SuppressionAtTheThreshold_NeighboursWithinEToTheEpsilon()
    {
        // 99 vs 100 users with minimum size 100. Suppressing on the true count would publish the cohort with
        // probability 0 vs 1 (an infinite ratio); on the noisy count (b = 4) it is ½e^−¼ = 0.389 vs ½: ratio e^0.25.
        var agg = new CohortAggregator(new CohortReleaseOptions { Bands = CohortAggregatorTests.SingleCohort, MinimumCohortSize = 100 });
        var cohort = new CohortKey(0, 0, 0);
        var a = Outcomes(agg, agg.Aggregate(CohortAggregatorTests.Users("u", 99, cohort, 10)), 1);
        var b = Outcomes(agg, agg.Aggregate(CohortAggregatorTests.Users("u", 100, cohort, 10)), 10_000_001);
        var loss = Estimate(a, b);
        output.WriteLine($"suppression at 99 vs 100 users: released {a[1]} vs {b[1]} of {Releases}; {loss}");
        Assert.True(loss.MaxLowerBound <= 0.25, loss.ToString());
        Assert.InRange(a[1] / (double)Releases, 0.5 * Math.Exp(-0.25) - 0.005, 0.5 * Math.Exp(-0.25) + 0.005);

        static long[] Outcomes(CohortAggregator agg, CohortTotals totals, ulong firstSeed)
        {
            var h = new long[2];   // [0] suppressed, [1] released
            var acc = CohortAggregatorTests.Unlimited();
            for (var i = 0; i < Releases; i++) h[agg.Release(totals, "p", firstSeed + (ulong)i, acc).Cohorts.Count]++;
            return h;
        }
    }

    [Fact]
    public void Estimate_UnderCalibratedNoise_IsFlagged()
    {
        // Negative control for the checker: Laplace with half the calibrated scale has a true ratio of e^0.5 > e^0.25.
        var noise = new NoiseSource(3);
        long[] Histogram(double truth)
        {
            var h = new long[63];
            for (var i = 0; i < Releases; i++)
            {
                var k = (int)Math.Floor((truth + noise.NextLaplace(2000) - 30_000) / 1000);
                h[k < 0 ? 0 : k >= 61 ? 62 : k + 1]++;
            }
            return h;
        }
        var loss = Estimate(Histogram(60_000), Histogram(61_000));
        output.WriteLine($"half-scale Laplace: {loss}");
        Assert.True(loss.MaxLowerBound > 0.25, loss.ToString());
        // And mass on one side only (true-count suppression) is an unbounded ratio.
        Assert.True(double.IsPositiveInfinity(Estimate([Releases, 0], [0, Releases]).MaxLowerBound));
    }
}
