using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class MultipleComparisonsTests
{
    // Unsorted, with a tie (0.03 twice) and a value that Holm pushes above 1 before capping.
    private static readonly double[] Raw = [0.04, 0.001, 0.03, 0.2, 0.01, 0.03];

    [Fact]
    public void Holm_FixedVector_MatchesPAdjust()
    {
        // R: p.adjust(c(0.04, 0.001, 0.03, 0.2, 0.01, 0.03), "holm"), derived by hand from its definition
        // pmin(1, cummax((m − i + 1)·p[o]))[ro]: sorted 0.001, 0.01, 0.03, 0.03, 0.04, 0.2 times 6, 5, 4, 3, 2, 1 is
        // 0.006, 0.05, 0.12, 0.09, 0.08, 0.2 → cummax 0.006, 0.05, 0.12, 0.12, 0.12, 0.2.
        var r = MultipleComparisons.Holm(Raw);
        Assert.Equal(StatError.None, r.Error);
        AssertAll([0.12, 0.006, 0.12, 0.2, 0.05, 0.12], r.Values);
    }

    [Fact]
    public void BenjaminiHochberg_FixedVector_MatchesPAdjust()
    {
        // R: p.adjust(same, "BH"), by hand from pmin(1, cummin(m/i·p[o]))[ro] with p sorted decreasingly:
        // 0.2·6/6 = 0.2, 0.04·6/5 = 0.048, 0.03·6/4 = 0.045, 0.03·6/3 = 0.06, 0.01·6/2 = 0.03, 0.001·6 = 0.006
        // → cummin 0.2, 0.048, 0.045, 0.045, 0.03, 0.006.
        var r = MultipleComparisons.BenjaminiHochberg(Raw);
        Assert.Equal(StatError.None, r.Error);
        AssertAll([0.048, 0.006, 0.045, 0.2, 0.03, 0.045], r.Values);
    }

    [Fact]
    public void Adjustments_LargeP_AreCappedAtOne()
    {
        AssertAll([1, 1], MultipleComparisons.Holm([0.6, 0.9]).Values);
        AssertAll([0.9, 0.9], MultipleComparisons.BenjaminiHochberg([0.6, 0.9]).Values);
    }

    [Fact]
    public void Adjustments_RandomPValues_AreOrderedAndBounded()
    {
        var p = Gen.Choose(0, 1_000_000).Select(i => i / 1e6).ArrayOf().Where(a => a.Length > 0);
        Check.QuickThrowOnFailure(Prop.ForAll(p.ToArbitrary(), raw =>
        {
            var holm = MultipleComparisons.Holm(raw).Values;
            var bh = MultipleComparisons.BenjaminiHochberg(raw).Values;
            for (int i = 0; i < raw.Length; i++)
            {
                if (!(raw[i] <= holm[i] && holm[i] <= 1)) return false;         // Holm ≥ raw, ≤ 1
                if (!(raw[i] <= bh[i] && bh[i] <= holm[i] + 1e-15)) return false; // raw ≤ BH ≤ Holm
                for (int j = 0; j < raw.Length; j++)
                    if (raw[i] <= raw[j] && (holm[i] > holm[j] || bh[i] > bh[j]))  // monotone in raw order
                        return false;
            }
            return true;
        }));
    }

    [Fact]
    public void Adjustments_EmptyInput_IsEmpty()
    {
        Assert.Empty(MultipleComparisons.Holm([]).Values);
        Assert.Empty(MultipleComparisons.BenjaminiHochberg([]).Values);
    }

    [Fact]
    public void Adjustments_InvalidPValue_ReturnErrorCode()
    {
        Assert.Equal(StatError.InvalidInput, MultipleComparisons.Holm([0.1, 1.2]).Error);
        Assert.Equal(StatError.InvalidInput, MultipleComparisons.Holm([0.1, double.NaN]).Error);
        Assert.Equal(StatError.InvalidInput, MultipleComparisons.BenjaminiHochberg([-0.1, 0.2]).Error);
        Assert.Empty(MultipleComparisons.BenjaminiHochberg([-0.1, 0.2]).Values);
    }

    private static void AssertAll(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++) Precision.Digits(expected[i], actual[i], 12);
    }
}
