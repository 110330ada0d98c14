using MathNet.Numerics;

namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Result of a Pearson chi-square test: X², degrees of freedom and upper-tail p-value.</summary>
public readonly record struct ChiSquareResult(double Statistic, int DegreesOfFreedom, double PValue, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Pearson chi-square tests. Independence compares arms on a categorical outcome (no Yates correction, matching
/// R's chisq.test(correct = FALSE)); goodness of fit compares served counts with the intended split, which is
/// the sample-ratio-mismatch check.
/// </summary>
public static class ChiSquare
{
    // X² = Σᵢⱼ (Oᵢⱼ − Eᵢⱼ)²/Eᵢⱼ, Eᵢⱼ = rowᵢ·colⱼ/N, df = (r − 1)(c − 1), p = Q(df/2, X²/2).
    public static ChiSquareResult Independence(long[,] table)
    {
        ArgumentNullException.ThrowIfNull(table);
        int rows = table.GetLength(0), cols = table.GetLength(1);
        if (rows < 2 || cols < 2)
            return Fail(StatError.InvalidInput);

        var rowSums = new double[rows];
        var colSums = new double[cols];
        double total = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                long o = table[i, j];
                if (o < 0) return Fail(StatError.InvalidInput);
                rowSums[i] += o;
                colSums[j] += o;
                total += o;
            }
        // An empty row or column has expected count zero everywhere in it: X² is undefined (R returns NaN).
        if (total == 0 || rowSums.Contains(0) || colSums.Contains(0))
            return Fail(StatError.ZeroSampleSize);

        double statistic = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double expected = rowSums[i] * colSums[j] / total;
                double d = table[i, j] - expected;
                statistic += d * d / expected;
            }
        int df = (rows - 1) * (cols - 1);
        return new(statistic, df, UpperTail(statistic, df), StatError.None);
    }

    // X² = Σᵢ (Oᵢ − N·πᵢ)²/(N·πᵢ), πᵢ = sᵢ/Σs, df = k − 1, p = Q(df/2, X²/2).
    /// <param name="expectedShares">Intended split; rescaled to sum to 1, so {1, 1} means 50/50.</param>
    public static ChiSquareResult GoodnessOfFit(long[] observed, double[] expectedShares)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(expectedShares);
        if (observed.Length < 2 || observed.Length != expectedShares.Length)
            return Fail(StatError.InvalidInput);

        double total = 0, shareSum = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            double s = expectedShares[i];
            if (observed[i] < 0 || !double.IsFinite(s) || s <= 0)
                return Fail(StatError.InvalidInput);
            total += observed[i];
            shareSum += s;
        }
        if (total == 0)
            return Fail(StatError.ZeroSampleSize);

        double statistic = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            double expected = total * expectedShares[i] / shareSum;
            double d = observed[i] - expected;
            statistic += d * d / expected;
        }
        int df = observed.Length - 1;
        return new(statistic, df, UpperTail(statistic, df), StatError.None);
    }

    // P(χ²_df > x) = Q(df/2, x/2), the regularized upper incomplete gamma, accurate for tiny p (SRM alerts at 5e-4).
    private static double UpperTail(double statistic, int df) => SpecialFunctions.GammaUpperRegularized(df / 2.0, statistic / 2.0);

    private static ChiSquareResult Fail(StatError error) => new(double.NaN, 0, double.NaN, error);
}
