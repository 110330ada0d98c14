using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Tests.Statistics.Bayesian;

public sealed class Xoshiro256StarStarTests
{
    [Fact]
    public void NextUInt64_SeedZero_MatchesSplitMix64ReferenceSeeding()
    {
        // SplitMix64 from 0 yields e220a8397b1dcdaf, 6e789e6aa1b965f4, ... (Vigna's splitmix64.c); xoshiro256**'s
        // first output is rotl(s1 · 5, 7) · 9 of that state (Blackman & Vigna, xoshiro256starstar.c).
        var rng = new Xoshiro256StarStar(0);
        Assert.Equal(unchecked(ulong.RotateLeft(0x6e789e6aa1b965f4UL * 5, 7) * 9), rng.NextUInt64());
    }

    [Fact]
    public void Draws_SameSeed_AreIdentical()
    {
        var a = new Xoshiro256StarStar(12345);
        var b = new Xoshiro256StarStar(12345);
        for (var i = 0; i < 1000; i++) Assert.Equal(a.NextBeta(3.5, 0.7), b.NextBeta(3.5, 0.7));
    }

    [Theory]
    [InlineData(2.0, 5.0)]
    [InlineData(0.5, 0.5)]
    [InlineData(300.0, 9700.0)]
    public void NextBeta_Moments_MatchBetaDistribution(double a, double b)
    {
        // E = a/(a+b), Var = ab/((a+b)²(a+b+1)); 200,000 draws, mean within 4 standard errors.
        const int n = 200_000;
        var rng = new Xoshiro256StarStar(7);
        double sum = 0, sumSq = 0;
        for (var i = 0; i < n; i++) { var x = rng.NextBeta(a, b); sum += x; sumSq += x * x; }
        var mean = sum / n;
        var variance = sumSq / n - mean * mean;
        var expectedMean = a / (a + b);
        var expectedVariance = a * b / ((a + b) * (a + b) * (a + b + 1));
        Assert.InRange(mean, expectedMean - 4 * Math.Sqrt(expectedVariance / n), expectedMean + 4 * Math.Sqrt(expectedVariance / n));
        Assert.InRange(variance / expectedVariance, 0.98, 1.02);
    }

    [Fact]
    public void NextGamma_InvalidShape_ReturnsNaN()
    {
        var rng = new Xoshiro256StarStar(1);
        Assert.True(double.IsNaN(rng.NextGamma(0)));
        Assert.True(double.IsNaN(rng.NextGamma(double.NaN)));
    }
}
