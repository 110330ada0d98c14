using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class MannWhitneyBinnedTests
{
    [Fact]
    public void TestBinned_TiedData_MatchesReference()
    {
        // x = [1, 2, 2, 3, 3, 3, 5], y = [2, 3, 4, 4, 6, 7] as counts over the values 1 … 7; R's wilcox.test(exact = FALSE,
        // correct = TRUE) formula by mpmath 1.3.0: U = 9.5, z = −1.60484326315816, p = 0.10852830228573.
        var r = MannWhitney.TestBinned([1, 2, 3, 0, 1, 0, 0], [0, 1, 1, 2, 0, 1, 1]);
        Assert.Equal(StatError.None, r.Error);
        Assert.Equal(9.5, r.U);
        Precision.Digits(-1.60484326315816, r.Z, 12);
        Precision.Digits(0.10852830228573, r.PValue, 10);
    }

    [Theory]
    [InlineData(1, 30, 25)]
    [InlineData(2, 400, 350)]
    [InlineData(3, 5_000, 5_200)]
    public void TestBinned_RawValuesAtBinRepresentatives_EqualsRawTest(int seed, int n1, int n2)
    {
        // Users' values are bin representatives (a zero-inflated, skewed revenue-like mix), so every bin is one exact tie
        // group and the binned test must equal the raw-value test; for values inside bins it is only an approximation.
        var rng = new Random(seed);
        double Draw(double shift) => rng.NextDouble() < 0.7 ? 0
            : ValueHistogram.Representative(ValueHistogram.BinOf(Math.Exp(shift + 1.5 * Gaussian(rng)) * (rng.NextDouble() < 0.03 ? -1 : 1)));
        var x = Enumerable.Range(0, n1).Select(_ => Draw(3.2)).ToArray();
        var y = Enumerable.Range(0, n2).Select(_ => Draw(3.0)).ToArray();
        var raw = MannWhitney.Test(x, y);
        var binned = MannWhitney.TestBinned(ValueHistogram.Of(x).Dense(), ValueHistogram.Of(y).Dense());
        Assert.Equal(StatError.None, binned.Error);
        Assert.Equal(raw.U, binned.U);
        Precision.Digits(raw.Z, binned.Z, 11);
        Precision.Digits(raw.PValue, binned.PValue, 10);
    }

    [Fact]
    public void TestBinned_SwappedSamples_GiveComplementaryU()
    {
        long[] x = [4, 0, 7, 1, 9], y = [2, 5, 0, 3, 1];
        var a = MannWhitney.TestBinned(x, y);
        var b = MannWhitney.TestBinned(y, x);
        Assert.Equal(x.Sum() * y.Sum(), a.U + b.U);
        Precision.Digits(a.PValue, b.PValue, 13);
        Precision.Digits(-a.Z, b.Z, 13);
    }

    [Fact]
    public void TestBinned_DegenerateInput_ReturnsErrorCodes()
    {
        Assert.Equal(StatError.InvalidInput, MannWhitney.TestBinned([1, 2], [1]).Error);
        Assert.Equal(StatError.InvalidInput, MannWhitney.TestBinned([1, -1], [1, 1]).Error);
        Assert.Equal(StatError.ZeroSampleSize, MannWhitney.TestBinned([0, 0], [1, 1]).Error);
        Assert.Equal(StatError.ZeroVariance, MannWhitney.TestBinned([0, 5, 0], [0, 3, 0]).Error);
        Assert.True(double.IsNaN(MannWhitney.TestBinned([0, 5, 0], [0, 3, 0]).PValue));
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
