using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;
using StreamPersonalization.Core.Privacy.Verification;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Tests.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class KolmogorovSmirnovTests
{
    [Fact]
    public void OneSample_TenPointsAgainstStandardNormal_MatchesScipy()
    {
        // SciPy 1.10.1: stats.kstest([-1.2, 0.3, 0.8, -0.4, 2.1, -0.9, 0.05, 1.4, -1.7, 0.6], 'norm')
        //   → statistic=0.12574688224992647, pvalue=0.9912156092047488 (method 'exact').
        double[] x = [-1.2, 0.3, 0.8, -0.4, 2.1, -0.9, 0.05, 1.4, -1.7, 0.6];
        var r = KolmogorovSmirnov.OneSample(x, v => Normal.CDF(0, 1, v));
        Precision.Digits(0.12574688224992647, r.Statistic, 12);
        Precision.Digits(0.9912156092047488, r.PValue, 8);
        Assert.Equal(10, r.N);
    }

    [Fact]
    public void OneSample_Cosines_AgainstLaplace_MatchesScipy()
    {
        // SciPy 1.10.1: stats.kstest([3*cos(1.7*i) for i in 1..200], 'laplace', args=(0, 2))
        //   → statistic=0.11158190642432576, pvalue=0.012651270225524376. For n > 140 SciPy evaluates the
        //   distribution by a different algorithm than our exact matrix power; the two agree to 6 digits (2e-7 relative).
        var x = Enumerable.Range(1, 200).Select(i => 3 * Math.Cos(1.7 * i)).ToArray();
        var r = KolmogorovSmirnov.OneSample(x, v => LaplaceMechanism.Cdf(v, 2));
        Precision.Digits(0.11158190642432576, r.Statistic, 12);
        Precision.Digits(0.012651270225524376, r.PValue, 6);
    }

    [Theory]
    // SciPy 1.10.1: stats.kstwo.sf(d, n), the exact two-sided one-sample distribution (Simard & L'Ecuyer).
    [InlineData(10, 0.274, 0.3715203845434957)]
    [InlineData(100, 0.1, 0.2526927570063874)]
    [InlineData(1000, 0.03, 0.3226902143914636)]
    [InlineData(5000, 0.015, 0.20846142096186204)]
    [InlineData(50, 0.3, 0.00017353260202718738)]
    public void PValue_ExactRange_MatchesScipyKstwoToSixDigits(int n, double d, double scipy) =>
        Precision.Digits(scipy, KolmogorovSmirnov.PValue(n, d), 6);

    [Theory]
    // Outside the exact matrix range the documented approximations apply: SciPy kstwo.sf as reference, 3 digits.
    [InlineData(20000, 0.0095, 0.05375933278176359)]   // n·D = 190: Kolmogorov limit with Stephens' correction
    [InlineData(100, 0.19857541067733941, 0.000623698661563035)]   // n·D² = 3.94, n > 99: MTW tail formula
    public void PValue_ApproximateBranches_MatchScipyToThreeDigits(int n, double d, double scipy) =>
        Precision.Digits(scipy, KolmogorovSmirnov.PValue(n, d), 3);

    [Fact]
    public void OneSample_DegenerateInput_ReportsErrors()
    {
        Assert.Equal(StatError.ZeroSampleSize, KolmogorovSmirnov.OneSample([], v => v).Error);
        Assert.Equal(StatError.InvalidInput, KolmogorovSmirnov.OneSample([double.NaN], v => 0.5).Error);
        Assert.Equal(StatError.InvalidInput, KolmogorovSmirnov.OneSample([1.0], v => 2).Error);
    }

    [Fact]
    public void PValue_Limits()
    {
        Assert.Equal(1, KolmogorovSmirnov.PValue(20, 0));
        Assert.Equal(0, KolmogorovSmirnov.PValue(20, 1));
        Assert.True(KolmogorovSmirnov.PValue(20, 0.2) > KolmogorovSmirnov.PValue(20, 0.3));
    }
}
