using MathNet.Numerics;

namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Result of Welch's t-test: t, Welch–Satterthwaite degrees of freedom, two-sided p and mean₁ − mean₂.</summary>
public readonly record struct WelchTResult(double T, double DegreesOfFreedom, double PValue, double Difference, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Welch's unequal-variance t-test from summary statistics, because experiment entities keep per-arm running
/// moments rather than raw values. Arms rarely have equal variances, so the pooled (Student) test is not offered;
/// this matches R's t.test(var.equal = FALSE).
/// </summary>
public static class WelchT
{
    // t = (m₁ − m₂)/√(s₁²/n₁ + s₂²/n₂); ν = (s₁²/n₁ + s₂²/n₂)² / Σ (sᵢ²/nᵢ)²/(nᵢ − 1); p = I_{ν/(ν+t²)}(ν/2, 1/2).
    /// <param name="var1">Unbiased sample variance (divisor n₁ − 1) of arm 1.</param>
    /// <param name="var2">Unbiased sample variance (divisor n₂ − 1) of arm 2.</param>
    public static WelchTResult Test(long n1, double mean1, double var1, long n2, double mean2, double var2)
    {
        if (n1 < 0 || n2 < 0 || !double.IsFinite(mean1) || !double.IsFinite(mean2)
            || !double.IsFinite(var1) || !double.IsFinite(var2) || var1 < 0 || var2 < 0)
            return Fail(double.NaN, StatError.InvalidInput);
        double diff = mean1 - mean2;
        // A variance needs two observations per arm; with one, the Satterthwaite df divides by zero.
        if (n1 < 2 || n2 < 2)
            return Fail(diff, StatError.ZeroSampleSize);

        double se1 = var1 / n1, se2 = var2 / n2, se = se1 + se2;
        if (se <= 0)
            return Fail(diff, StatError.ZeroVariance);

        double t = diff / Math.Sqrt(se);
        double df = se * se / (se1 * se1 / (n1 - 1) + se2 * se2 / (n2 - 1));
        // Two-sided Student-t tail via the regularized incomplete beta: exact identity, no 1 − CDF cancellation.
        double p = SpecialFunctions.BetaRegularized(df / 2, 0.5, df / (df + t * t));
        return new(t, df, p, diff, StatError.None);
    }

    private static WelchTResult Fail(double diff, StatError error) => new(double.NaN, double.NaN, double.NaN, diff, error);
}
