using FsCheck;
using FsCheck.Fluent;
using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class MannWhitneyTests
{
    [Fact]
    public void Test_RDocumentationData_MatchesReference()
    {
        // R ?wilcox.test two-sample data (x = depression scores "at entry", y): W = 35 as printed there.
        // wilcox.test(x, y, exact = FALSE, correct = TRUE): z and p by mpmath 1.3.0 (30 digits) from R's formula:
        // z = 1.16350762782201, p = 0.244623605126983 (R prints p-value = 0.2446).
        double[] x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        double[] y = [1.15, 0.88, 0.90, 0.74, 1.21];
        var r = MannWhitney.Test(x, y);
        Assert.Equal(StatError.None, r.Error);
        Assert.Equal(35.0, r.U);
        Precision.Digits(1.16350762782201, r.Z, 12);
        Precision.Digits(0.244623605126983, r.PValue, 10);
        Precision.Printed(0.2446, r.PValue, 4);
    }

    [Fact]
    public void Test_WithTies_MatchesBruteForce()
    {
        // Ties across and within samples; mpmath 1.3.0: U = 9.5, z = −1.60484326315816, p = 0.10852830228573.
        double[] x = [1, 2, 2, 3, 3, 3, 5];
        double[] y = [2, 3, 4, 4, 6, 7];
        var r = MannWhitney.Test(x, y);
        var (u, z, p) = BruteForce(x, y);
        Assert.Equal(9.5, r.U);
        Assert.Equal(u, r.U);
        Precision.Digits(-1.60484326315816, r.Z, 12);
        Precision.Digits(0.10852830228573, r.PValue, 10);
        Precision.Digits(z, r.Z, 12);
        Precision.Digits(p, r.PValue, 9);
    }

    [Fact]
    public void Test_RandomSamplesWithTies_MatchBruteForce()
    {
        var sample = Gen.Choose(0, 12).Select(v => v / 2.0).ArrayOf().Where(a => a.Length > 0);
        var pairs = from x in sample from y in sample select (x, y);
        Check.QuickThrowOnFailure(Prop.ForAll(pairs.ToArbitrary(), s =>
        {
            var r = MannWhitney.Test(s.x, s.y);
            if (s.x.Concat(s.y).Distinct().Count() < 2) return r.Error == StatError.ZeroVariance;
            var (u, z, p) = BruteForce(s.x, s.y);
            return r.IsValid && r.U == u && Math.Abs(r.Z - z) <= 1e-9 * Math.Max(1, Math.Abs(z))
                   && Math.Abs(r.PValue - p) <= 1e-9;
        }));
    }

    [Fact]
    public void Test_SwappedSamples_GiveComplementaryU()
    {
        double[] x = [3.1, 0.2, 5.5, 5.5, 2.0];
        double[] y = [1.0, 5.5, 7.2];
        var a = MannWhitney.Test(x, y);
        var b = MannWhitney.Test(y, x);
        Assert.Equal(x.Length * y.Length, a.U + b.U);
        Precision.Digits(a.PValue, b.PValue, 13);
    }

    [Fact]
    public void Test_DegenerateInput_ReturnsErrorCode()
    {
        Assert.Equal(StatError.ZeroSampleSize, MannWhitney.Test([], [1.0, 2.0]).Error);
        Assert.Equal(StatError.ZeroSampleSize, MannWhitney.Test([1.0], []).Error);
        Assert.Equal(StatError.ZeroVariance, MannWhitney.Test([4.0, 4.0, 4.0], [4.0, 4.0]).Error);
        Assert.Equal(StatError.InvalidInput, MannWhitney.Test([1.0, double.NaN], [2.0]).Error);
        Assert.True(double.IsNaN(MannWhitney.Test([4.0, 4.0], [4.0]).PValue));
    }

    /// <summary>
    /// Independent derivation: U by counting pairs (x &gt; y counts 1, ties ½), tie sizes by grouping, z with R's
    /// continuity correction, p = 2·min(Φ(z), 1 − Φ(z)) from MathNet's Normal.CDF.
    /// </summary>
    private static (double U, double Z, double P) BruteForce(double[] x, double[] y)
    {
        double u = x.Sum(a => y.Sum(b => a > b ? 1.0 : a == b ? 0.5 : 0.0));
        double n1 = x.Length, n2 = y.Length, n = n1 + n2;
        double ties = x.Concat(y).GroupBy(v => v).Sum(g => Math.Pow(g.Count(), 3) - g.Count());
        double sigma = Math.Sqrt(n1 * n2 / 12 * (n + 1 - ties / (n * (n - 1))));
        double centered = u - n1 * n2 / 2;
        double z = (centered - 0.5 * Math.Sign(centered)) / sigma;
        double phi = Normal.CDF(0, 1, z);
        return (u, z, 2 * Math.Min(phi, 1 - phi));
    }
}
