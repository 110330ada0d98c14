using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Frequentist;
using StreamPersonalization.Core.Tests.Statistics.Frequentist;
using static StreamPersonalization.Core.Tests.Experiments.State.Deltas;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>The snapshot's chi-square over all arms, the per-treatment count test (Fisher for small counts) and Mann–Whitney.</summary>
public class SnapshotCountAndRankTests
{
    [Fact]
    public void Compute_BinaryThreeArms_ChiSquareEqualsIndependenceTestOfCounts()
    {
        var shape = Shape(MetricKind.Binary, ExperimentKind.Fixed, "control", "b", "c");
        var state = Simulation.Run(shape, [0.10, 0.13, 0.10], [1, 1, 1], 9_000, seed: 5);
        var s = SnapshotCalculator.Compute(state, shape, seed: 2);
        var arms = shape.VariantIds.Select(state.Arm).ToArray();
        var table = new long[3, 2];
        for (var i = 0; i < 3; i++) { table[i, 0] = arms[i].Conversions; table[i, 1] = arms[i].Users - arms[i].Conversions; }
        var expected = ChiSquare.Independence(table);
        var c = s.ChiSquare!;
        Assert.Null(c.Error);
        Assert.Equal(2, c.DegreesOfFreedom);
        Assert.Equal(expected.Statistic, c.Statistic);
        Assert.Equal(expected.PValue, c.PValue);
        // Brute force over all six expected counts.
        double n = arms.Sum(a => a.Users), x = arms.Sum(a => a.Conversions);
        Precision.Digits(arms.SelectMany(a => new[] { a.Users * x / n, a.Users * (n - x) / n }).Min(), c.MinimumExpectedCount, 14);
        Assert.All(s.Tests, t =>
        {
            Assert.Equal("two-proportion-z", t.CountTest!.Test);
            Assert.Equal(t.PValue, t.CountTest.PValue);
            Assert.Null(t.MannWhitney);
        });
        Assert.Null(s.Factorial);
    }

    [Theory]
    [InlineData(10, "two-proportion-z")] // min expected = 100·10/200 = 5: large-sample test
    [InlineData(9, "fisher-exact")]      // min expected = 4.5
    public void Compute_ExpectedCountBoundary_ChoosesTestByCochransRule(long conversions, string test)
    {
        var state = NewState();
        state.Apply(Range(0, 0, 1, Arm("control", 100, conversions), Arm("treatment", 100, 0)));
        var t = SnapshotCalculator.Compute(state, Shape(), seed: 1).Tests[0];
        Assert.Equal(test, t.CountTest!.Test);
        Precision.Digits(100.0 * conversions / 200, t.CountTest.MinimumExpectedCount, 14);
        var expected = test == "fisher-exact" ? FisherExact.TwoSided(0, 100, conversions, 100 - conversions).PValue : t.PValue;
        Assert.Equal(expected, t.CountTest.PValue);
        Assert.Null(t.CountTest.Error);
    }

    [Fact]
    public void Compute_SmallCounts_ReportsFisherExactPValue()
    {
        // R: fisher.test(matrix(c(5, 13, 1, 19), 2, byrow = TRUE)) — treatment 5/18 vs control 1/20; the p-value is
        // FisherExact.TwoSided's (tested against R there); here the snapshot must pick it and put it in countTest.
        var state = NewState();
        state.Apply(Range(0, 0, 1, Arm("control", 20, 1), Arm("treatment", 18, 5)));
        var t = SnapshotCalculator.Compute(state, Shape(), seed: 1).Tests[0];
        Assert.Equal("fisher-exact", t.CountTest!.Test);
        Assert.Equal(FisherExact.TwoSided(5, 13, 1, 19).PValue, t.CountTest.PValue);
        Assert.True(t.CountTest.PValue > t.PValue, "the exact test is more conservative than z on this table");
    }

    [Fact]
    public void Compute_NoConversionsAnywhere_FisherGivesOneWhereZHasNoVariance()
    {
        var state = NewState();
        state.Apply(Range(0, 0, 1, Arm("control", 30, 0), Arm("treatment", 25, 0)));
        var s = SnapshotCalculator.Compute(state, Shape(), seed: 1);
        var t = s.Tests[0];
        Assert.Contains("z.ZeroVariance", t.Errors);
        Assert.Equal("fisher-exact", t.CountTest!.Test);
        Assert.Equal(1.0, t.CountTest.PValue, 12);
        Assert.Equal("chisquare.ZeroSampleSize", s.ChiSquare!.Error);
        Assert.Equal(0, s.ChiSquare.MinimumExpectedCount);
    }

    [Fact]
    public void Compute_EmptyArms_CountTestReportsZeroSampleSize()
    {
        var s = SnapshotCalculator.Compute(NewState(), Shape(), seed: 1);
        Assert.Equal("count.ZeroSampleSize", s.Tests[0].CountTest!.Error);
        Assert.Contains("count.ZeroSampleSize", s.Tests[0].Errors);
        Assert.True(double.IsNaN(s.ChiSquare!.MinimumExpectedCount));
    }

    [Fact]
    public void Compute_ContinuousWithHistograms_MannWhitneyEqualsRawTestOnBinValues()
    {
        // Zero-inflated revenue-like values at bin representatives; the treatment's positive values are larger.
        var rng = new Random(9);
        double Draw(double scale) => rng.NextDouble() < 0.5 ? 0 : ValueHistogram.Representative(ValueHistogram.BinOf(scale * (1 + 30 * rng.NextDouble())));
        var control = Enumerable.Range(0, 700).Select(_ => Draw(1.0)).ToArray();
        var treatment = Enumerable.Range(0, 650).Select(_ => Draw(3.0)).ToArray();
        var state = NewState(MetricKind.Continuous);
        state.Apply(Range(0, 0, 1, ArmOf("control", control), ArmOf("treatment", treatment)));
        var t = SnapshotCalculator.Compute(state, Shape(MetricKind.Continuous), seed: 1).Tests[0];
        var raw = MannWhitney.Test(treatment, control);
        var m = t.MannWhitney!;
        Assert.Null(m.Error);
        Assert.Equal(raw.U, m.U);
        Precision.Digits(raw.Z, m.Z, 11);
        Precision.Digits(raw.PValue, m.PValue, 10);
        Assert.True(m.Z > 0 && m.PValue < 0.05, $"treatment values are larger: z = {m.Z}, p = {m.PValue}");
        Assert.Null(t.CountTest);
        Assert.DoesNotContain(t.Errors, e => e.StartsWith("mwu.", StringComparison.Ordinal));
    }

    internal static ArmDelta ArmOf(string variant, double[] values) =>
        new(variant, values.Length, 0, values.Sum(), values.Sum(v => v * v), 0, 0, 0) { Histogram = ValueHistogram.Of(values) };
}
