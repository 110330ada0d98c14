using StreamPersonalization.Core.Statistics.Bayesian;

namespace StreamPersonalization.Core.Tests.Statistics.Bayesian;

public sealed class BetaPosteriorTests
{
    [Fact]
    public void FromCounts_UniformPrior_MeanIsRuleOfSuccession()
    {
        // Laplace's rule of succession: Beta(1,1) prior ⇒ posterior mean (s + 1) / (n + 2).
        var p = BetaPosterior.FromCounts(7, 3).Value!;
        Assert.Equal((7 + 1) / 12.0, p.Mean, 15);
        Assert.Equal(8.0, p.Alpha);
        Assert.Equal(4.0, p.Beta);
    }

    [Fact]
    public void Variance_MatchesBetaFormula()
    {
        // Var Beta(8, 4) = αβ / ((α+β)²(α+β+1)) = 32 / (144 · 13).
        Assert.Equal(32.0 / (144 * 13), BetaPosterior.FromCounts(7, 3).Value!.Variance, 15);
    }

    [Fact]
    public void FromCounts_NegativeCount_ReportsError()
    {
        var r = BetaPosterior.FromCounts(-1, 3);
        Assert.False(r.Ok);
        Assert.Equal(PosteriorError.NegativeCount, r.Error);
        Assert.Null(r.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(99)]
    public void Interval_OnlySuccesses_MatchesClosedFormQuantile(int successes)
    {
        // Beta(a, 1) has CDF x^a, so R's qbeta(q, a, 1) = q^(1/a) exactly.
        var a = successes + 1.0;
        var ci = BetaPosterior.FromCounts(successes, 0).Value!.Interval(0.95);
        Assert.Equal(PosteriorError.None, ci.Error);
        Assert.Equal(Math.Pow(0.025, 1 / a), ci.Lower, 9);
        Assert.Equal(Math.Pow(0.975, 1 / a), ci.Upper, 9);
    }

    [Fact]
    public void Interval_OnlyFailures_MatchesClosedFormQuantile()
    {
        // Beta(1, b) has CDF 1 − (1 − x)^b, so qbeta(q, 1, b) = 1 − (1 − q)^(1/b); here b = 20.
        var ci = BetaPosterior.FromCounts(0, 19).Value!.Interval(0.90);
        Assert.Equal(1 - Math.Pow(0.95, 1 / 20.0), ci.Lower, 9);
        Assert.Equal(1 - Math.Pow(0.05, 1 / 20.0), ci.Upper, 9);
    }

    [Fact]
    public void Interval_SymmetricPosterior_IsSymmetricAboutHalf()
    {
        var ci = BetaPosterior.FromCounts(40, 40).Value!.Interval();
        Assert.Equal(1.0, ci.Lower + ci.Upper, 9);
        Assert.True(ci.Lower < 0.5 && ci.Upper > 0.5);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Interval_InvalidLevel_ReportsError(double level)
    {
        var ci = BetaPosterior.Prior.Interval(level);
        Assert.Equal(PosteriorError.InvalidLevel, ci.Error);
        Assert.True(double.IsNaN(ci.Lower));
    }
}
