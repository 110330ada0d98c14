using FsCheck;
using FsCheck.Fluent;
using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class IntervalsTests
{
    [Theory]
    // Newcombe (1998a), "Two-sided confidence intervals for the single proportion", Stat Med 17:857, Table II,
    // method 3 (score): 81/263 → 0.2553–0.3662, 15/148 → 0.0624–0.1605, 0/20 → 0–0.1611.
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    public void Wilson_NewcombeExamples_MatchPublishedBounds(long x, long n, double lower, double upper)
    {
        var r = Intervals.Wilson(x, n, 0.95);
        Assert.Equal(StatError.None, r.Error);
        Precision.Printed(lower, r.Lower, 4);
        Precision.Printed(upper, r.Upper, 4);
    }

    [Theory]
    // Further digits: mpmath 1.3.0 (30 digits), roots of the score quadratic.
    [InlineData(81, 263, 0.255288519878274, 0.366209576982800)]
    [InlineData(15, 148, 0.0623863995307363, 0.160487241723308)]
    public void Wilson_MatchesScoreQuadraticRoots(long x, long n, double lower, double upper)
    {
        var r = Intervals.Wilson(x, n, 0.95);
        Precision.Digits(lower, r.Lower, 10);
        Precision.Digits(upper, r.Upper, 10);

        // Independent derivation: the bounds are the roots π of (p̂ − π)² = z²π(1 − π)/n.
        double z = Normal.InvCDF(0, 1, 0.975), p = (double)x / n;
        double a = 1 + z * z / n, b = -(2 * p + z * z / n), c = p * p, d = Math.Sqrt(b * b - 4 * a * c);
        Precision.Digits((-b - d) / (2 * a), r.Lower, 10);
        Precision.Digits((-b + d) / (2 * a), r.Upper, 10);
    }

    [Theory]
    // Newcombe (1998b), "Interval estimation for the difference between independent proportions", Stat Med
    // 17:873, Table II, method 10: 56/70 − 48/80 → 0.0524, 0.3339; 9/10 − 3/10 → 0.1705, 0.8090.
    // Further digits: mpmath 1.3.0 from Wilson bounds and the method-10 formula.
    [InlineData(56, 70, 48, 80, 0.0524, 0.3339, 0.0524314724023649, 0.333872654036906)]
    [InlineData(9, 10, 3, 10, 0.1705, 0.8090, 0.170522723934503, 0.809017973535488)]
    public void NewcombeDifference_NewcombeExamples_MatchPublishedBounds(
        long x1, long n1, long x2, long n2, double lower, double upper, double lowerDigits, double upperDigits)
    {
        var r = Intervals.NewcombeDifference(x1, n1, x2, n2, 0.95);
        Assert.Equal(StatError.None, r.Error);
        Precision.Printed(lower, r.Lower, 4);
        Precision.Printed(upper, r.Upper, 4);
        Precision.Digits(lowerDigits, r.Lower, 10);
        Precision.Digits(upperDigits, r.Upper, 10);
        Precision.Digits((double)x1 / n1 - (double)x2 / n2, r.Estimate, 14);
    }

    [Fact]
    public void Wilson_AnyCounts_ContainsEstimateWithinUnitInterval()
    {
        var cases = from n in Gen.Choose(1, 5000)
                    from x in Gen.Choose(0, n)
                    from confidence in Gen.Elements(0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
                    select (x, n, confidence);
        Check.QuickThrowOnFailure(Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var r = Intervals.Wilson(c.x, c.n, c.confidence);
            double p = (double)c.x / c.n;
            return r.IsValid && 0 <= r.Lower && r.Lower <= p && p <= r.Upper && r.Upper <= 1;
        }));
    }

    [Fact]
    public void NewcombeDifference_AnyCounts_ContainsEstimateWithinPlusMinusOne()
    {
        var arm = from n in Gen.Choose(1, 2000) from x in Gen.Choose(0, n) select (x, n);
        var cases = from a in arm from b in arm select (a, b);
        Check.QuickThrowOnFailure(Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var r = Intervals.NewcombeDifference(c.a.x, c.a.n, c.b.x, c.b.n, 0.95);
            return r.IsValid && -1 <= r.Lower && r.Lower <= r.Estimate && r.Estimate <= r.Upper && r.Upper <= 1;
        }));
    }

    [Fact]
    public void Intervals_DegenerateInput_ReturnErrorCode()
    {
        Assert.Equal(StatError.ZeroSampleSize, Intervals.Wilson(0, 0, 0.95).Error);
        Assert.Equal(StatError.InvalidInput, Intervals.Wilson(5, 4, 0.95).Error);
        Assert.Equal(StatError.InvalidInput, Intervals.Wilson(1, 4, 1.0).Error);
        Assert.Equal(StatError.InvalidInput, Intervals.Wilson(1, 4, double.NaN).Error);
        Assert.Equal(StatError.ZeroSampleSize, Intervals.NewcombeDifference(1, 4, 0, 0, 0.95).Error);
        Assert.Equal(StatError.InvalidInput, Intervals.NewcombeDifference(-1, 4, 0, 3, 0.95).Error);
        Assert.True(double.IsNaN(Intervals.Wilson(0, 0, 0.95).Lower));
    }
}
