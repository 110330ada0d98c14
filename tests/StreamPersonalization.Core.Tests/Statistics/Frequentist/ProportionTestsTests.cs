using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class ProportionTestsTests
{
    [Fact]
    public void TwoProportionZ_NewcombeExample_MatchesReference()
    {
        // 56/70 vs 48/80 (Newcombe 1998, Stat Med 17:873, example (a)). z and p: mpmath 1.3.0 at 30 digits from
        // the pooled formula: z = 2.65017195125853, p = 0.00804508136819658; R prop.test(c(56,48), c(70,80),
        // correct = FALSE) prints X-squared = 7.0234, p-value = 0.008045.
        var r = ProportionTests.TwoProportionZ(56, 70, 48, 80);
        Assert.Equal(StatError.None, r.Error);
        Precision.Digits(2.65017195125853, r.Z, 12);
        Precision.Digits(0.00804508136819658, r.PValue, 10);
        Precision.Digits(0.2, r.Difference, 14);
        Precision.Printed(7.0234, r.Z * r.Z, 4);
        Precision.Printed(0.008045, r.PValue, 6);
    }

    [Fact]
    public void TwoProportionZ_PValue_EqualsDirectNormalCdf()
    {
        // Independent derivation: pooled z computed here by hand, p = 2·(1 − Φ(|z|)) with MathNet's Normal.CDF.
        long x1 = 120, n1 = 1000, x2 = 150, n2 = 1010;
        double pooled = (x1 + x2) / (double)(n1 + n2);
        double z = (x1 / (double)n1 - x2 / (double)n2) / Math.Sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
        var r = ProportionTests.TwoProportionZ(x1, n1, x2, n2);
        Precision.Digits(z, r.Z, 12);
        Precision.Digits(2 * (1 - Normal.CDF(0, 1, Math.Abs(z))), r.PValue, 9);
    }

    [Fact]
    public void TwoProportionZ_SquaredZ_EqualsPearsonChiSquare()
    {
        // prop.test(correct = FALSE) reports X² on the 2×2 table, which equals z² of the pooled z-test.
        var z = ProportionTests.TwoProportionZ(56, 70, 48, 80);
        var chi = ChiSquare.Independence(new long[,] { { 56, 14 }, { 48, 32 } });
        Precision.Digits(chi.Statistic, z.Z * z.Z, 12);
        Precision.Digits(chi.PValue, z.PValue, 10);
    }

    [Theory]
    [InlineData(0, 0, 5, 10, StatError.ZeroSampleSize)]
    [InlineData(5, 10, 0, 0, StatError.ZeroSampleSize)]
    [InlineData(0, 10, 0, 20, StatError.ZeroVariance)]
    [InlineData(10, 10, 20, 20, StatError.ZeroVariance)]
    [InlineData(11, 10, 5, 10, StatError.InvalidInput)]
    [InlineData(-1, 10, 5, 10, StatError.InvalidInput)]
    public void TwoProportionZ_DegenerateInput_ReturnsErrorCode(long x1, long n1, long x2, long n2, StatError expected)
    {
        var r = ProportionTests.TwoProportionZ(x1, n1, x2, n2);
        Assert.Equal(expected, r.Error);
        Assert.False(r.IsValid);
        Assert.True(double.IsNaN(r.PValue));
    }
}
