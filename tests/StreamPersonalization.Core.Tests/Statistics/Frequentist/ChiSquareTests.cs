using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class ChiSquareTests
{
    [Fact]
    public void Independence_PartyByGender_MatchesR()
    {
        // R ?chisq.test example (Agresti 2007, p. 39): M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477)))
        // prints X-squared = 30.07, df = 2, p-value = 2.954e-07. Further digits: mpmath 1.3.0 (30 digits) from
        // the Pearson formula and the regularized upper incomplete gamma: 30.0701490957547, 2.95358918321176e-7.
        var r = ChiSquare.Independence(new long[,] { { 762, 327, 468 }, { 484, 239, 477 } });
        Assert.Equal(StatError.None, r.Error);
        Assert.Equal(2, r.DegreesOfFreedom);
        Precision.Printed(30.07, r.Statistic, 2);
        Precision.Digits(2.954e-7, r.PValue, 3);
        Precision.Digits(30.0701490957547, r.Statistic, 12);
        Precision.Digits(2.95358918321176e-7, r.PValue, 9);
    }

    [Fact]
    public void Independence_SmokersByGroup_MatchesR()
    {
        // R ?prop.test example (smokers 83/86, 90/93, 129/136, 70/82) is a 4×2 Pearson test:
        // X-squared = 12.6, df = 3, p-value = 0.005585; mpmath: 12.6004112971276, 0.00558547666162704.
        var r = ChiSquare.Independence(new long[,] { { 83, 3 }, { 90, 3 }, { 129, 7 }, { 70, 12 } });
        Assert.Equal(3, r.DegreesOfFreedom);
        Precision.Printed(0.005585, r.PValue, 6);
        Precision.Digits(12.6004112971276, r.Statistic, 12);
        Precision.Digits(0.00558547666162704, r.PValue, 9);
    }

    [Fact]
    public void Independence_PValue_EqualsChiSquaredCdf()
    {
        // Independent derivation of the tail: MathNet's ChiSquared.CDF (a different code path from the gamma call).
        var r = ChiSquare.Independence(new long[,] { { 10, 20, 30 }, { 25, 15, 12 }, { 8, 9, 30 } });
        Assert.Equal(4, r.DegreesOfFreedom);
        Precision.Digits(1 - ChiSquared.CDF(4, r.Statistic), r.PValue, 8);
    }

    [Fact]
    public void GoodnessOfFit_RDocumentationExamples_MatchR()
    {
        // R ?chisq.test: x <- c(89,37,30,28,2); chisq.test(x, p = c(40,20,20,15,5), rescale.p = TRUE) prints
        // X-squared = 9.9901, df = 4, p-value = 0.04059; with p = c(0.40,0.20,0.20,0.19,0.01): 5.7947, 0.215.
        // Further digits: mpmath 1.3.0 from the defining formula.
        long[] x = [89, 37, 30, 28, 2];
        var a = ChiSquare.GoodnessOfFit(x, [40, 20, 20, 15, 5]);
        Assert.Equal(4, a.DegreesOfFreedom);
        Precision.Printed(9.9901, a.Statistic, 4);
        Precision.Printed(0.04059, a.PValue, 5);
        Precision.Digits(9.99014336917563, a.Statistic, 12);
        Precision.Digits(0.0405940433447812, a.PValue, 9);

        var b = ChiSquare.GoodnessOfFit(x, [0.40, 0.20, 0.20, 0.19, 0.01]);
        Precision.Printed(5.7947, b.Statistic, 4);
        Precision.Digits(5.79470854555744, b.Statistic, 12);
        Precision.Digits(0.215013095920786, b.PValue, 9);
    }

    [Fact]
    public void GoodnessOfFit_SampleRatioMismatch_MatchesClosedForm()
    {
        // 10,400 vs 9,600 against 50/50: X² = (400² + 400²)/10,000 = 32 exactly; with df = 1 the tail is
        // erfc(√(32/2)) = erfc(4) = 1.54172579002800e-8 (mpmath 1.3.0).
        var r = ChiSquare.GoodnessOfFit([10_400, 9_600], [1, 1]);
        Assert.Equal(32.0, r.Statistic, 12);
        Assert.Equal(1, r.DegreesOfFreedom);
        Precision.Digits(1.54172579002800e-8, r.PValue, 9);
    }

    [Fact]
    public void Independence_DegenerateInput_ReturnsErrorCode()
    {
        Assert.Equal(StatError.ZeroSampleSize, ChiSquare.Independence(new long[2, 2]).Error);
        Assert.Equal(StatError.ZeroSampleSize, ChiSquare.Independence(new long[,] { { 5, 0 }, { 7, 0 } }).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.Independence(new long[,] { { 5, -1 }, { 7, 3 } }).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.Independence(new long[,] { { 5, 1 } }).Error);
    }

    [Fact]
    public void GoodnessOfFit_DegenerateInput_ReturnsErrorCode()
    {
        Assert.Equal(StatError.ZeroSampleSize, ChiSquare.GoodnessOfFit([0, 0], [1, 1]).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.GoodnessOfFit([5, 5], [1, 0]).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.GoodnessOfFit([5, 5], [1]).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.GoodnessOfFit([5, 5], [1, double.NaN]).Error);
        Assert.Equal(StatError.InvalidInput, ChiSquare.GoodnessOfFit([5], [1]).Error);
        Assert.True(double.IsNaN(ChiSquare.GoodnessOfFit([0, 0], [1, 1]).PValue));
    }
}
