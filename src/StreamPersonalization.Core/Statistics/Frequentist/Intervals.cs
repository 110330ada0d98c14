namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>A confidence interval with its point estimate.</summary>
public readonly record struct ConfidenceInterval(double Estimate, double Lower, double Upper, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Score-based intervals for conversion rates. Wilson's interval keeps near-nominal coverage and stays inside
/// [0, 1] for small or extreme counts, where the Wald interval collapses; Newcombe's hybrid score interval
/// (method 10 of Newcombe 1998) carries that behaviour over to the difference of two independent rates.
/// </summary>
public static class Intervals
{
    // p̂ = x/n; (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = Φ⁻¹(1 − α/2).
    public static ConfidenceInterval Wilson(long x, long n, double confidence)
    {
        if (x < 0 || n < 0 || x > n || !(confidence > 0 && confidence < 1))
            return Fail(StatError.InvalidInput);
        if (n == 0)
            return Fail(StatError.ZeroSampleSize);

        double z = StandardNormal.Critical(confidence);
        double p = (double)x / n, z2n = z * z / n;
        double center = (p + z2n / 2) / (1 + z2n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
        // At x = 0 or x = n the exact bound is 0 or 1; pin it so rounding cannot leave p̂ outside the interval.
        double lower = x == 0 ? 0 : Math.Max(0, center - half);
        double upper = x == n ? 1 : Math.Min(1, center + half);
        return new(p, lower, upper, StatError.None);
    }

    // θ = p̂₁ − p̂₂; L = θ − √((p̂₁ − l₁)² + (u₂ − p̂₂)²), U = θ + √((u₁ − p̂₁)² + (p̂₂ − l₂)²), (lᵢ, uᵢ) Wilson.
    public static ConfidenceInterval NewcombeDifference(long x1, long n1, long x2, long n2, double confidence)
    {
        var w1 = Wilson(x1, n1, confidence);
        var w2 = Wilson(x2, n2, confidence);
        if (!w1.IsValid) return Fail(w1.Error);
        if (!w2.IsValid) return Fail(w2.Error);

        double theta = w1.Estimate - w2.Estimate;
        double lower = theta - Math.Sqrt(Square(w1.Estimate - w1.Lower) + Square(w2.Upper - w2.Estimate));
        double upper = theta + Math.Sqrt(Square(w1.Upper - w1.Estimate) + Square(w2.Estimate - w2.Lower));
        return new(theta, lower, upper, StatError.None);
    }

    private static double Square(double v) => v * v;

    private static ConfidenceInterval Fail(StatError error) => new(double.NaN, double.NaN, double.NaN, error);
}
