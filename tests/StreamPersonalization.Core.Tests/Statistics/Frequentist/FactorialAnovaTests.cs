using MathNet.Numerics.Distributions;
using StreamPersonalization.Core.Statistics;
using StreamPersonalization.Core.Statistics.Frequentist;

namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

public class FactorialAnovaTests
{
    /// <summary>
    /// carData::Moore (Fox &amp; Weisberg), 45 subjects: conformity by fcategory (levels in R's order high, low, medium)
    /// × partner.status (high, low); unbalanced cells of 7, 8, 5, 10, 11, 4. (fcategory, partner.status, conformity).
    /// </summary>
    internal static readonly (string F, string P, int Y)[] Moore =
    [
        ("low", "low", 8), ("high", "low", 4), ("high", "low", 8), ("low", "low", 7), ("low", "low", 10), ("low", "low", 6),
        ("medium", "low", 12), ("medium", "low", 4), ("low", "low", 13), ("low", "low", 12), ("medium", "low", 4), ("high", "low", 13),
        ("low", "low", 7), ("medium", "low", 9), ("high", "low", 9), ("high", "low", 24), ("low", "low", 6), ("high", "low", 7),
        ("high", "low", 23), ("high", "low", 13), ("low", "low", 8), ("low", "low", 12), ("high", "high", 19), ("medium", "high", 12),
        ("low", "high", 21), ("high", "high", 9), ("low", "high", 23), ("high", "high", 7), ("medium", "high", 17), ("medium", "high", 14),
        ("high", "high", 11), ("medium", "high", 16), ("low", "high", 15), ("medium", "high", 20), ("medium", "high", 8), ("low", "high", 12),
        ("high", "high", 14), ("medium", "high", 14), ("medium", "high", 17), ("medium", "high", 7), ("medium", "high", 17), ("high", "high", 13),
        ("low", "high", 16), ("high", "high", 10), ("medium", "high", 15),
    ];

    internal static readonly string[] FLevels = ["high", "low", "medium"], PLevels = ["high", "low"];

    internal static (int[] Cell, double Y)[] MooreRaw() =>
        Moore.Select(m => (new[] { Array.IndexOf(FLevels, m.F), Array.IndexOf(PLevels, m.P) }, (double)m.Y)).ToArray();

    internal static CellSums[] Cells(int[] levels, IEnumerable<(int[] Cell, double Y)> raw)
    {
        var cells = new CellSums[levels.Aggregate(1, (p, l) => p * l)];
        foreach (var (cell, y) in raw)
        {
            var i = cell.Select((l, f) => (l, f)).Aggregate(0, (acc, x) => acc * levels[x.f] + x.l);
            cells[i] = new(cells[i].N + 1, cells[i].Sum + y, cells[i].SumSquares + y * y);
        }
        return cells;
    }

    [Fact]
    public void Fit_MooreConformity_MatchesCarAnovaTypeThree()
    {
        // car reference manual, ?Anova example: Anova(lm(conformity ~ fcategory*partner.status, data = Moore,
        // contrasts = list(fcategory = contr.sum, partner.status = contr.sum)), type = 3) prints
        //   fcategory 36.0 2 0.8589 0.431492; partner.status 239.6 1 11.4250 0.001657;
        //   fcategory:partner.status 175.5 2 4.1846 0.022572; Residuals 817.8 39; (Intercept) F 274.3592.
        // Further digits: Python fractions (exact cell means and SS) and mpmath 1.3.0 (40 digits) for the F tail.
        var r = FactorialAnova.Fit([3, 2], Cells([3, 2], MooreRaw()));
        Assert.Equal(StatError.None, r.Error);
        Assert.Equal(39, r.ResidualDegreesOfFreedom);
        Precision.Printed(817.8, r.ResidualSumOfSquares, 1);
        Precision.Digits(817.763961038961, r.ResidualSumOfSquares, 12);
        Assert.Equal([[0], [1], [0, 1]], r.Effects.Select(e => e.Factors.ToArray()));
        Assert.Equal([2, 1, 2], r.Effects.Select(e => e.DegreesOfFreedom));
        (double Ss, double F, double P, double SsPrinted, double FPrinted, double PPrinted)[] expected =
        [
            (36.018705627705628, 0.85888446202485158, 0.43149161022642551, 36.0, 0.8589, 0.431492),
            (239.56236979347912, 11.424974524526102, 0.0016571126800988257, 239.6, 11.4250, 0.001657),
            (175.48892784992785, 4.1846232606361529, 0.02257244179167865, 175.5, 4.1846, 0.022572),
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            var (e, a) = (expected[i], r.Effects[i]);
            Precision.Printed(e.SsPrinted, a.SumOfSquares, 1);
            Precision.Printed(e.FPrinted, a.F, 4);
            Precision.Digits(e.PPrinted, a.PValue, 3);
            Precision.Digits(e.Ss, a.SumOfSquares, 11);
            Precision.Digits(e.F, a.F, 11);
            Precision.Digits(e.P, a.PValue, 9);
        }
        // (Intercept) row: F = t² of the intercept coefficient.
        Precision.Printed(274.3592, r.Coefficients[0].T * r.Coefficients[0].T, 4);
    }

    [Fact]
    public void Fit_MooreConformity_CoefficientsMatchSummaryLm()
    {
        // Same example, summary(mod) with contr.sum: estimates and standard errors as printed, and mpmath digits.
        var r = FactorialAnova.Fit([3, 2], Cells([3, 2], MooreRaw()));
        (double Est, double Se, double EstPrinted, double SePrinted)[] expected =
        [
            (12.050811688311688, 0.72753940523542997, 12.0508, 0.7275),  // (Intercept)
            (0.19025974025974026, 0.99867719824214278, 0.1903, 0.9987),  // fcategory1 (high)
            (1.0991883116883117, 1.0264118342570834, 1.0992, 1.0264),    // fcategory2 (low)
            (2.4591450216450216, 0.72753940523542997, 2.4591, 0.7275),   // partner.status1 (high)
            (-2.8430735930735931, 0.99867719824214278, -2.8431, 0.9987), // fcategory1:partner.status1
            (1.7908549783549784, 1.0264118342570834, 1.7909, 1.0264),    // fcategory2:partner.status1
        ];
        Assert.Equal(expected.Length, r.Coefficients.Count);
        Assert.Equal([[], [0], [0], [1], [0, 1], [0, 1]], r.Coefficients.Select(c => c.Factors.ToArray()));
        Assert.Equal([[], [0], [1], [0], [0, 0], [1, 0]], r.Coefficients.Select(c => c.Levels.ToArray()));
        for (var i = 0; i < expected.Length; i++)
        {
            Precision.Printed(expected[i].EstPrinted, r.Coefficients[i].Estimate, 4);
            Precision.Printed(expected[i].SePrinted, r.Coefficients[i].StandardError, 4);
            Precision.Digits(expected[i].Est, r.Coefficients[i].Estimate, 12);
            Precision.Digits(expected[i].Se, r.Coefficients[i].StandardError, 12);
        }
        // Printed Pr(>|t|) of partner.status1 and fcategory1:partner.status1: 0.00166, 0.00701.
        Precision.Printed(0.00166, r.Coefficients[3].PValue, 5);
        Precision.Printed(0.00701, r.Coefficients[4].PValue, 5);
    }

    [Fact]
    public void Fit_MooreConformity_EqualsRawDataLeastSquares()
    {
        var raw = MooreRaw();
        AssertEqualsLeastSquares([3, 2], raw, FactorialCoding.Effect);
        AssertEqualsLeastSquares([3, 2], raw, FactorialCoding.Treatment);
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    public void Fit_RandomUnbalancedThreeFactors_EqualsRawDataLeastSquares(int seed, bool binary)
    {
        // 2 × 3 × 2 cells of 2–12 observations with main effects and interactions; binary = the linear probability model on 0/1.
        int[] levels = [2, 3, 2];
        var rng = new Random(seed);
        var raw = new List<(int[] Cell, double Y)>();
        for (var a = 0; a < 2; a++)
            for (var b = 0; b < 3; b++)
                for (var c = 0; c < 2; c++)
                {
                    var mean = 1 + 0.5 * a - 0.3 * b + 0.8 * a * c + 0.2 * b * c;
                    for (int i = 0, n = rng.Next(2, 13); i < n; i++)
                        raw.Add(([a, b, c], binary ? (rng.NextDouble() < mean / 4 ? 1 : 0) : mean + rng.NextDouble() * 3 - 1.5));
                }
        AssertEqualsLeastSquares(levels, raw, FactorialCoding.Effect);
        AssertEqualsLeastSquares(levels, raw, FactorialCoding.Treatment);
    }

    [Fact]
    public void Fit_PValues_AgreeWithMathNetFisherSnedecorAndStudentT()
    {
        var r = FactorialAnova.Fit([3, 2], Cells([3, 2], MooreRaw()));
        foreach (var e in r.Effects)
            Precision.Digits(1 - FisherSnedecor.CDF(e.DegreesOfFreedom, 39, e.F), e.PValue, 9);
        foreach (var c in r.Coefficients.Skip(1))
            Precision.Digits(2 * StudentT.CDF(0, 1, 39, -Math.Abs(c.T)), c.PValue, 9);
    }

    [Fact]
    public void Fit_DegenerateInput_ReturnsErrorCodes()
    {
        var cells = Cells([3, 2], MooreRaw());
        Assert.Equal(StatError.InvalidInput, FactorialAnova.Fit([3, 2], cells[..5]).Error);
        Assert.Equal(StatError.InvalidInput, FactorialAnova.Fit([6, 1], cells).Error);
        Assert.Equal(StatError.InvalidInput, FactorialAnova.Fit([], []).Error);
        Assert.Equal(StatError.InvalidInput, FactorialAnova.Fit([2], [new(1, double.NaN, 0), new(1, 1, 1)]).Error);
        var empty = (CellSums[])cells.Clone();
        empty[4] = default;
        Assert.Equal(StatError.ZeroSampleSize, FactorialAnova.Fit([3, 2], empty).Error);
        // One user per cell leaves no residual degrees of freedom.
        Assert.Equal(StatError.ZeroSampleSize, FactorialAnova.Fit([2, 2], [new(1, 1, 1), new(1, 2, 4), new(1, 3, 9), new(1, 4, 16)]).Error);
        // No variation within any cell: σ̂² = 0.
        Assert.Equal(StatError.ZeroVariance, FactorialAnova.Fit([2, 2], [new(2, 2, 2), new(2, 4, 8), new(3, 0, 0), new(2, 2, 2)]).Error);
    }

    private static void AssertEqualsLeastSquares(int[] levels, IReadOnlyList<(int[] Cell, double Y)> raw, FactorialCoding coding)
    {
        var r = FactorialAnova.Fit(levels, Cells(levels, raw), coding);
        Assert.Equal(StatError.None, r.Error);
        var ls = new RawLeastSquares(levels, raw, coding);
        Precision.Digits(ls.Sse(), r.ResidualSumOfSquares, 10);
        var (estimates, errors) = ls.Coefficients();
        Assert.Equal(estimates.Length, r.Coefficients.Count);
        for (var i = 0; i < estimates.Length; i++)
        {
            // Coefficients near zero are compared on the scale of their standard error.
            Assert.True(Math.Abs(estimates[i] - r.Coefficients[i].Estimate) <= 1e-9 * Math.Max(Math.Abs(estimates[i]), errors[i]),
                $"{coding} coefficient {i}: {estimates[i]:R} vs {r.Coefficients[i]}");
            Precision.Digits(errors[i], r.Coefficients[i].StandardError, 9);
        }
        // Type III tests are the contr.sum column-drop tests whatever coding the coefficients use (dropping
        // contr.treatment columns tests other hypotheses), so the reference for them is always the sum-coded fit.
        var sumCoded = coding == FactorialCoding.Effect ? ls : new RawLeastSquares(levels, raw, FactorialCoding.Effect);
        var mse = sumCoded.Sse() / (sumCoded.Observations - estimates.Length);
        var typeThree = sumCoded.TypeThree().ToArray();
        Assert.Equal(typeThree.Length, r.Effects.Count);
        for (var i = 0; i < typeThree.Length; i++)
        {
            Assert.Equal(typeThree[i].Term, r.Effects[i].Factors);
            Assert.Equal(typeThree[i].Df, r.Effects[i].DegreesOfFreedom);
            Precision.Digits(typeThree[i].SumOfSquares, r.Effects[i].SumOfSquares, 9);
            Precision.Digits(typeThree[i].SumOfSquares / typeThree[i].Df / mse, r.Effects[i].F, 9);
        }
    }
}
