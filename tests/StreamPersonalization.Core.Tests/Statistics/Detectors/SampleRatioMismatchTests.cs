using System.Numerics;
using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics.Bayesian;
using StreamPersonalization.Core.Statistics.Detectors;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Statistics.Detectors;

public sealed class SampleRatioMismatchTests(ITestOutputHelper output)
{
    private static readonly double[] Even = [0.5, 0.5];

    [Fact]
    public void Check_52_48_AtTwentyThousand_FiresWithReferencePValue()
    {
        // X² = 2 · 400² / 10,000 = 32, df = 1; R: pchisq(32, 1, lower.tail = FALSE) = erfc(4) = 1.54172579002800e-08.
        var r = SampleRatioMismatch.Check([10_400, 9_600], Even);
        Assert.Equal(32.0, r.Statistic, 12);
        Assert.Equal(1, r.DegreesOfFreedom);
        Assert.Equal(1.54172579002800e-08, r.PValue, 1e-14);
        Assert.True(r.Fired);
    }

    [Fact]
    public void Check_SmallImbalance_MatchesChiSquaredCdfAndStaysQuiet()
    {
        // X² = 1, df = 1; R: pchisq(1, 1, lower.tail = FALSE) = 0.3173105078629141.
        var r = SampleRatioMismatch.Check([5_050, 4_950], Even);
        Assert.Equal(0.3173105078629141, r.PValue, 12);
        Assert.Equal(1 - ChiSquared.CDF(1, r.Statistic), r.PValue, 12);
        Assert.False(r.Fired);
    }

    [Fact]
    public void Check_ThreeArmsWithWeights_UsesNormalisedShares()
    {
        // Weights 1:1:1, counts 100/200/300 ⇒ E = 200, X² = 100, df = 2; the χ²₂ upper tail is exp(−X²/2).
        var r = SampleRatioMismatch.Check([100, 200, 300], [1, 1, 1]);
        Assert.Equal(100.0, r.Statistic, 12);
        Assert.Equal(2, r.DegreesOfFreedom);
        Assert.Equal(1.0, r.PValue / Math.Exp(-50), 9);
    }

    [Fact]
    public void Check_DegenerateInput_ReportsErrors()
    {
        Assert.Equal(DetectorError.ShapeMismatch, SampleRatioMismatch.Check([1, 2, 3], Even).Error);
        Assert.Equal(DetectorError.ShapeMismatch, SampleRatioMismatch.Check([1], [1.0]).Error);
        Assert.Equal(DetectorError.NegativeCount, SampleRatioMismatch.Check([-1, 2], Even).Error);
        Assert.Equal(DetectorError.NoObservations, SampleRatioMismatch.Check([0, 0], Even).Error);
        Assert.Equal(DetectorError.InvalidShare, SampleRatioMismatch.Check([1, 2], [0.0, 1.0]).Error);
        Assert.Equal(DetectorError.InvalidAlpha, SampleRatioMismatch.Check([1, 2], Even, 0).Error);
    }

    [Fact]
    public void Check_CorrectSplitSimulation_QuietInAtLeast999Permille()
    {
        // 20,000 runs of an exact Binomial(20,000, ½) arm count: each 64-bit word holds 64 fair coins, so its popcount
        // is exactly Binomial(64, ½). At α = 0.0005 the expected number of false fires is 10; the ≥ 99.9% claim allows
        // 20, and P(Poisson(10) > 20) ≈ 0.2%, so the run count resolves the claim rather than passing by luck of a few runs.
        const int runs = 20_000, n = 20_000;
        var rng = new Xoshiro256StarStar(31_337);
        var fired = 0;
        for (var run = 0; run < runs; run++)
        {
            long a = 0;
            for (var w = 0; w < n / 64; w++) a += BitOperations.PopCount(rng.NextUInt64());
            a += BitOperations.PopCount(rng.NextUInt64() & ((1UL << (n % 64)) - 1));
            if (SampleRatioMismatch.Check([a, n - a], Even).Fired) fired++;
        }
        var quiet = 1 - (double)fired / runs;
        output.WriteLine($"correct 50/50 split, n = {n}, {runs} runs: fired {fired} times, quiet {quiet:P3}");
        Assert.True(quiet >= 0.999, $"quiet in {quiet:P3}");
    }

    [Fact]
    public void Check_52_48_Simulation_FiresInNearlyEveryRun()
    {
        // Power: non-central χ²₁ with λ = 32 exceeds the α = 0.0005 critical value 12.12 with probability ≈ 98.5%.
        const int runs = 1_000, n = 20_000;
        var rng = new Xoshiro256StarStar(4_242);
        var fired = 0;
        for (var run = 0; run < runs; run++)
        {
            long a = 0;
            for (var i = 0; i < n; i++) if (rng.NextBernoulli(0.52)) a++;
            if (SampleRatioMismatch.Check([a, n - a], Even).Fired) fired++;
        }
        output.WriteLine($"52/48 split, n = {n}, {runs} runs: fired in {(double)fired / runs:P1}");
        Assert.True(fired >= 0.95 * runs, $"fired in {fired}/{runs}");
    }
}
