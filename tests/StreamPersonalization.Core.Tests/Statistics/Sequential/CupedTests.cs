using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Tests.Statistics.Sequential;

public sealed class CupedTests
{
    [Fact]
    public void Adjust_SummaryStatistics_MatchesDengFormulas()
    {
        // var Y = 4, var X = 1, cov = 1.2 ⇒ θ = 1.2, ρ² = 1.44/4 = 0.36, var Ŷ = 4 − 1.44 = 2.56, Ŷ = 10 − 1.2(3 − 2.5) = 9.4.
        var r = Cuped.Adjust(meanY: 10, varianceY: 4, meanX: 3, varianceX: 1, covarianceXY: 1.2, covariateMean: 2.5);
        Assert.True(r.Ok);
        Assert.Equal(1.2, r.Theta, 14);
        Assert.Equal(0.36, r.VarianceReduction, 14);
        Assert.Equal(2.56, r.AdjustedVariance, 14);
        Assert.Equal(9.4, r.AdjustedMean, 14);
    }

    [Fact]
    public void Adjust_MetricLinearInCovariate_RemovesAllVariance()
    {
        double[] x = [1, 2, 3, 4, 5, 6];
        var y = x.Select(v => 2 * v + 7).ToArray();
        var r = Cuped.Adjust(y, x);
        Assert.Equal(2.0, r.Theta, 12);
        Assert.Equal(1.0, r.VarianceReduction, 12);
        Assert.Equal(0.0, r.AdjustedVariance, 10);
        Assert.Equal(y.Average(), r.AdjustedMean, 12);
    }

    [Fact]
    public void Adjust_UncorrelatedCovariate_ChangesNothing()
    {
        double[] x = [1, -1, 1, -1];
        double[] y = [1, 1, -1, -1];
        var r = Cuped.Adjust(y, x, covariateMean: 5);
        Assert.Equal(0.0, r.Theta, 14);
        Assert.Equal(0.0, r.VarianceReduction, 14);
        Assert.Equal(0.0, r.AdjustedMean, 14);
        Assert.Equal(4.0 / 3, r.AdjustedVariance, 14);
    }

    [Fact]
    public void Adjust_DegenerateInput_ReportsErrors()
    {
        Assert.Equal(SequentialError.NonPositiveVariance, Cuped.Adjust(1, 1, 1, 0, 0, 1).Error);
        Assert.Equal(SequentialError.NonFinite, Cuped.Adjust(double.NaN, 1, 1, 1, 0, 1).Error);
        Assert.Equal(SequentialError.LengthMismatch, Cuped.Adjust([1.0, 2.0], [1.0]).Error);
        Assert.Equal(SequentialError.TooFewObservations, Cuped.Adjust([1.0], [1.0]).Error);
    }
}
