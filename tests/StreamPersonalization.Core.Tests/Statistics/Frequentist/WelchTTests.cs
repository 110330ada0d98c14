using MathNet.Numerics;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class WelchTTests
{
    private static readonly double[] Group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    private static readonly double[] Group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

    [Fact]
    public void Test_SleepData_MatchesR()
    {
        // R datasets::sleep, t.test(extra ~ group, data = sleep) (Welch by default) prints
        // t = -1.8608, df = 17.776, p-value = 0.07939. Further digits: mpmath 1.3.0 (30 digits) from the Welch
        // formulas and the incomplete beta: t = -1.86081346748685, df = 17.7764735161785, p = 0.0793941401873581.
        var (n1, m1, v1) = Moments(Group1);
        var (n2, m2, v2) = Moments(Group2);
        var r = WelchT.Test(n1, m1, v1, n2, m2, v2);
        Assert.Equal(StatError.None, r.Error);
        Precision.Printed(-1.8608, r.T, 4);
        Precision.Printed(17.776, r.DegreesOfFreedom, 3);
        Precision.Printed(0.07939, r.PValue, 5);
        Precision.Digits(-1.86081346748685, r.T, 12);
        Precision.Digits(17.7764735161785, r.DegreesOfFreedom, 12);
        Precision.Digits(0.0793941401873581, r.PValue, 9);
        Precision.Digits(-1.58, r.Difference, 12);
    }

    [Fact]
    public void Test_PValue_MatchesIntegratedTDensity()
    {
        // Independent derivation: p = 1 − 2∫₀^|t| f_ν(u) du with the Student-t density integrated by Simpson's rule.
        var r = WelchT.Test(40, 10.2, 4.0, 25, 9.1, 9.5);
        double nu = r.DegreesOfFreedom, t = Math.Abs(r.T);
        double logC = SpecialFunctions.GammaLn((nu + 1) / 2) - SpecialFunctions.GammaLn(nu / 2) - 0.5 * Math.Log(nu * Math.PI);
        double Density(double u) => Math.Exp(logC - (nu + 1) / 2 * Math.Log(1 + u * u / nu));
        const int steps = 4000;
        double h = t / steps, sum = Density(0) + Density(t);
        for (int i = 1; i < steps; i++) sum += (i % 2 == 1 ? 4 : 2) * Density(i * h);
        Precision.Digits(1 - 2 * sum * h / 3, r.PValue, 9);
    }

    [Theory]
    [InlineData(0, 1.0, 5, 1.0, StatError.ZeroSampleSize)]
    [InlineData(1, 1.0, 5, 1.0, StatError.ZeroSampleSize)]
    [InlineData(5, 0.0, 5, 0.0, StatError.ZeroVariance)]
    [InlineData(5, -1.0, 5, 1.0, StatError.InvalidInput)]
    [InlineData(5, double.NaN, 5, 1.0, StatError.InvalidInput)]
    public void Test_DegenerateInput_ReturnsErrorCode(long n1, double var1, long n2, double var2, StatError expected)
    {
        var r = WelchT.Test(n1, 1.0, var1, n2, 2.0, var2);
        Assert.Equal(expected, r.Error);
        Assert.True(double.IsNaN(r.PValue));
    }

    [Fact]
    public void Test_OneArmWithoutVariance_IsStillValid()
    {
        // Only the sum of the variances must be positive: R's t.test accepts one constant group.
        var r = WelchT.Test(5, 1.0, 0.0, 5, 2.0, 1.0);
        Assert.Equal(StatError.None, r.Error);
        Precision.Digits(4.0, r.DegreesOfFreedom, 12);
    }

    private static (long N, double Mean, double Variance) Moments(double[] values)
    {
        double mean = values.Average();
        return (values.Length, mean, values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
