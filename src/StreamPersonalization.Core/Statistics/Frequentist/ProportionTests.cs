namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Result of a two-proportion z-test: z statistic, two-sided p-value and p₁ − p₂.</summary>
public readonly record struct ProportionTestResult(double Z, double PValue, double Difference, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Two-proportion z-test with the pooled standard error, the test for the primary binary conversion metric.
/// Pooling is correct under H₀ (equal rates) and makes z² equal Pearson's X² on the 2×2 table, so this agrees
/// with R's prop.test(correct = FALSE) and with <see cref="ChiSquare.Independence"/>.
/// </summary>
public static class ProportionTests
{
    // z = (p₁ − p₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)), p̂ = (x₁ + x₂)/(n₁ + n₂); p = 2Φ(−|z|).
    public static ProportionTestResult TwoProportionZ(long x1, long n1, long x2, long n2)
    {
        if (x1 < 0 || x2 < 0 || n1 < 0 || n2 < 0 || x1 > n1 || x2 > n2)
            return new(double.NaN, double.NaN, double.NaN, StatError.InvalidInput);
        if (n1 == 0 || n2 == 0)
            return new(double.NaN, double.NaN, double.NaN, StatError.ZeroSampleSize);

        double p1 = (double)x1 / n1, p2 = (double)x2 / n2, diff = p1 - p2;
        double pooled = (double)(x1 + x2) / (n1 + n2);
        double variance = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2);
        if (variance <= 0)
            return new(double.NaN, double.NaN, diff, StatError.ZeroVariance);

        double z = diff / Math.Sqrt(variance);
        return new(z, StandardNormal.TwoSidedP(z), diff, StatError.None);
    }
}
