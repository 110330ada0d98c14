namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Result of the Mann–Whitney U test: U for the first sample, the corrected z and the two-sided p.</summary>
public readonly record struct MannWhitneyResult(double U, double Z, double PValue, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Mann–Whitney U (Wilcoxon rank-sum) test for skewed continuous metrics such as revenue, where a t-test is
/// dominated by a few large values. Uses the normal approximation with tie and continuity corrections, as R's
/// wilcox.test(exact = FALSE, correct = TRUE); experiment arms are far too large for the exact distribution.
/// </summary>
public static class MannWhitney
{
    // U = R₁ − n₁(n₁+1)/2 (midranks); σ² = n₁n₂/12·((N+1) − Σ(t³−t)/(N(N−1))); z = (U − n₁n₂/2 − ½·sign)/σ; p = 2Φ(−|z|).
    public static MannWhitneyResult Test(double[] x, double[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Any(double.IsNaN) || y.Any(double.IsNaN))
            return new(double.NaN, double.NaN, double.NaN, StatError.InvalidInput);
        int n1 = x.Length, n2 = y.Length, n = n1 + n2;
        if (n1 == 0 || n2 == 0)
            return new(double.NaN, double.NaN, double.NaN, StatError.ZeroSampleSize);

        // Sort (value, fromX) once; midranks for tie groups, accumulating x's rank sum and Σ(t³ − t).
        var values = new (double Value, bool FromX)[n];
        for (int i = 0; i < n1; i++) values[i] = (x[i], true);
        for (int i = 0; i < n2; i++) values[n1 + i] = (y[i], false);
        Array.Sort(values, (l, r) => l.Value.CompareTo(r.Value));

        double rankSumX = 0, tieTerm = 0;
        int groups = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && values[end + 1].Value == values[start].Value) end++;
            double t = end - start + 1, midrank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
                if (values[k].FromX) rankSumX += midrank;
            tieTerm += t * t * t - t;
            groups++;
            start = end + 1;
        }

        double u = rankSumX - n1 * (n1 + 1.0) / 2;
        double centered = u - (double)n1 * n2 / 2;
        double variance = (double)n1 * n2 / 12 * ((n + 1) - tieTerm / ((double)n * (n - 1)));
        // One distinct value (all ties) makes σ exactly zero in exact arithmetic; test the cause, not the rounding.
        if (groups < 2 || variance <= 0)
            return new(u, double.NaN, double.NaN, StatError.ZeroVariance);

        double z = (centered - 0.5 * Math.Sign(centered)) / Math.Sqrt(variance);
        return new(u, z, StandardNormal.TwoSidedP(z), StatError.None);
    }
}
