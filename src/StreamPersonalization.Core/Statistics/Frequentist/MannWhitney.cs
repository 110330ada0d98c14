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

    // Tie groups given as counts per ordered bin b: U = Σ_b x_b·(Y_<b + y_b/2); tᵦ = x_b + y_b; σ² and z as in Test.
    /// <summary>
    /// The same test on data already grouped into ordered bins, each bin one tie group (mid-ranks): exactly
    /// <see cref="Test"/> on raw data whose values are one value per bin. For values binned from a continuum it is an
    /// approximation: values within a bin are treated as tied, which loses the ordering inside the bin.
    /// </summary>
    /// <param name="xCounts">Observations of the first sample per bin, bins in ascending value order.</param>
    /// <param name="yCounts">Observations of the second sample per bin, same bins.</param>
    public static MannWhitneyResult TestBinned(IReadOnlyList<long> xCounts, IReadOnlyList<long> yCounts)
    {
        ArgumentNullException.ThrowIfNull(xCounts);
        ArgumentNullException.ThrowIfNull(yCounts);
        if (xCounts.Count != yCounts.Count || xCounts.Any(c => c < 0) || yCounts.Any(c => c < 0))
            return new(double.NaN, double.NaN, double.NaN, StatError.InvalidInput);
        double n1 = xCounts.Sum(), n2 = yCounts.Sum(), n = n1 + n2;
        if (n1 == 0 || n2 == 0)
            return new(double.NaN, double.NaN, double.NaN, StatError.ZeroSampleSize);

        // Counting pairs rather than summing ranks avoids cancelling two O(N²) rank sums.
        double u = 0, yBelow = 0, tieTerm = 0;
        int groups = 0;
        for (int b = 0; b < xCounts.Count; b++)
        {
            double x = xCounts[b], y = yCounts[b], t = x + y;
            if (t == 0) continue;
            u += x * (yBelow + y / 2);
            yBelow += y;
            tieTerm += t * t * t - t;
            groups++;
        }
        double centered = u - n1 * n2 / 2;
        double variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)));
        if (groups < 2 || variance <= 0)
            return new(u, double.NaN, double.NaN, StatError.ZeroVariance);

        double z = (centered - 0.5 * Math.Sign(centered)) / Math.Sqrt(variance);
        return new(u, z, StandardNormal.TwoSidedP(z), StatError.None);
    }
}
