using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Tests.Statistics.Bayesian;

public sealed class NormalPosteriorTests
{
    [Fact]
    public void FromSample_FlatPrior_VarianceIsSampleVarianceOverN()
    {
        var p = NormalPosterior.FromSample(100, 5.0, 4.0).Value!;
        Assert.Equal(5.0, p.Mean);
        Assert.Equal(0.04, p.Variance, 15);
    }

    [Fact]
    public void Interval_95_UsesNormalQuantile()
    {
        // R: qnorm(0.975) = 1.959963984540054.
        var ci = NormalPosterior.FromSample(100, 5.0, 4.0).Value!.Interval(0.95);
        Assert.Equal(5.0 - 1.959963984540054 * 0.2, ci.Lower, 9);
        Assert.Equal(5.0 + 1.959963984540054 * 0.2, ci.Upper, 9);
    }

    [Theory]
    [InlineData(1, 0.0, 1.0, PosteriorError.TooFewObservations)]
    [InlineData(-3, 0.0, 1.0, PosteriorError.NegativeCount)]
    [InlineData(10, double.NaN, 1.0, PosteriorError.NonFinite)]
    [InlineData(10, 0.0, -1.0, PosteriorError.NegativeVariance)]
    public void FromSample_DegenerateInput_ReportsError(long n, double mean, double variance, PosteriorError expected)
    {
        Assert.Equal(expected, NormalPosterior.FromSample(n, mean, variance).Error);
    }
}
