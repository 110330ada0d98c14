using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class FisherExactTests
{
    [Fact]
    public void TwoSided_LadyTastingTea_MatchesFisher1935()
    {
        // Fisher (1935) tea tasting; R: fisher.test(matrix(c(3, 1, 1, 3), 2)) prints p-value = 0.4857.
        // Exactly (1 + 16 + 16 + 1)/70 = 34/70: the tables with a = 1 and a = 3 tie, so this also checks the tolerance.
        var r = FisherExact.TwoSided(3, 1, 1, 3);
        Assert.Equal(StatError.None, r.Error);
        Precision.Printed(0.4857, r.PValue, 4);
        Precision.Digits(34.0 / 70, r.PValue, 12);
    }

    [Fact]
    public void TwoSided_Convictions_MatchesExactEnumeration()
    {
        // Fisher (1962) twin convictions, R ?fisher.test: matrix(c(2, 10, 15, 3), 2). The two-sided p is derived
        // here by exact rational enumeration (and equals 0.000536724119143436 by mpmath 1.3.0).
        var r = FisherExact.TwoSided(2, 15, 10, 3);
        Precision.Digits(ExactEnumeration(2, 15, 10, 3), r.PValue, 10);
        Precision.Digits(0.000536724119143436, r.PValue, 10);
    }

    [Fact]
    public void TwoSided_RandomSmallTables_MatchExactEnumeration()
    {
        var cell = Gen.Choose(0, 25);
        var tables = from a in cell from b in cell from c in cell from d in cell
                     where a + b + c + d > 0
                     select (a, b, c, d);
        Check.QuickThrowOnFailure(Prop.ForAll(tables.ToArbitrary(), t =>
        {
            var r = FisherExact.TwoSided(t.a, t.b, t.c, t.d);
            double expected = ExactEnumeration(t.a, t.b, t.c, t.d);
            return r.IsValid && Math.Abs(r.PValue - expected) <= 1e-10 * expected && r.PValue <= 1;
        }));
    }

    [Fact]
    public void TwoSided_EmptyMargin_IsOne()
    {
        // R: fisher.test(matrix(c(0, 0, 3, 4), 2)) gives p = 1 (a single possible table).
        Precision.Digits(1.0, FisherExact.TwoSided(0, 3, 0, 4).PValue, 14);
    }

    [Fact]
    public void TwoSided_DegenerateInput_ReturnsErrorCode()
    {
        Assert.Equal(StatError.ZeroSampleSize, FisherExact.TwoSided(0, 0, 0, 0).Error);
        Assert.Equal(StatError.InvalidInput, FisherExact.TwoSided(1, -1, 2, 3).Error);
    }

    /// <summary>
    /// Independent derivation: hypergeometric weights C(a+b, k)·C(c+d, a+c−k) as exact integers, summing those
    /// not larger than the observed one; exact arithmetic needs no tolerance.
    /// </summary>
    private static double ExactEnumeration(long a, long b, long c, long d)
    {
        long row1 = a + b, row2 = c + d, col1 = a + c;
        BigInteger observed = Choose(row1, a) * Choose(row2, c), total = 0, tail = 0;
        for (long k = Math.Max(0, col1 - row2); k <= Math.Min(row1, col1); k++)
        {
            var w = Choose(row1, k) * Choose(row2, col1 - k);
            total += w;
            if (w <= observed) tail += w;
        }
        return (double)tail / (double)total;
    }

    private static BigInteger Choose(long n, long k)
    {
        BigInteger result = 1;
        for (long i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }
}
