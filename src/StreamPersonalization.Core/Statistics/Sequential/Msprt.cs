namespace StreamPersonalization.Core.Statistics.Sequential;

/// <summary>Difference of two means and the variance of that difference, the inputs of the mSPRT.</summary>
public sealed record DifferenceEstimate(double Difference, double Variance, SequentialError Error)
{
    /// <summary>True when the estimate is usable.</summary>
    public bool Ok => Error == SequentialError.None;
}

/// <summary>
/// Mixture sequential probability ratio test for a difference in means with a N(0, τ²) mixing distribution
/// (Johari, Pekelis &amp; Walsh 2017, "Peeking at A/B tests"):
/// Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²))), with V the variance of θ̂.
/// Why: 1/Λ is an always-valid p-value, so dashboards may be watched continuously without inflating false positives.
/// </summary>
public static class Msprt
{
    /// <summary>θ̂ = x̄_B − x̄_A and V = s²_A/n_A + s²_B/n_B (treatment minus control). Needs n ≥ 2 and V &gt; 0.</summary>
    public static DifferenceEstimate DifferenceInMeans(long nA, double meanA, double varianceA, long nB, double meanB, double varianceB)
    {
        if (nA < 2 || nB < 2) return new(double.NaN, double.NaN, SequentialError.TooFewObservations);
        if (!double.IsFinite(meanA) || !double.IsFinite(meanB) || !double.IsFinite(varianceA) || !double.IsFinite(varianceB))
            return new(double.NaN, double.NaN, SequentialError.NonFinite);
        var v = varianceA / nA + varianceB / nB;
        if (!(v > 0) || varianceA < 0 || varianceB < 0) return new(double.NaN, double.NaN, SequentialError.NonPositiveVariance);
        return new(meanB - meanA, v, SequentialError.None);
    }

    /// <summary>ln Λ = ½ ln(V/(V+τ²)) + τ²θ̂² / (2V(V+τ²)); logs avoid overflow once the evidence is overwhelming. NaN on invalid input.</summary>
    public static double LogStatistic(double difference, double variance, double mixingVariance)
    {
        if (!double.IsFinite(difference) || !(variance > 0) || !(mixingVariance > 0) || !double.IsFinite(variance) || !double.IsFinite(mixingVariance))
            return double.NaN;
        var sum = variance + mixingVariance;
        return 0.5 * Math.Log(variance / sum) + mixingVariance * difference * difference / (2 * variance * sum);
    }

    /// <summary>Λ itself (may be +∞ for overwhelming evidence); NaN on invalid input.</summary>
    public static double Statistic(double difference, double variance, double mixingVariance) =>
        Math.Exp(LogStatistic(difference, variance, mixingVariance));

    /// <summary>
    /// Radius r of the (1 − α) confidence sequence θ̂ ± r, the set of θ₀ with Λ(θ̂ − θ₀) &lt; 1/α:
    /// r = √( 2V(V+τ²)/τ² · (ln(1/α) + ½ ln((V+τ²)/V)) ). NaN on invalid input.
    /// </summary>
    public static double ConfidenceRadius(double variance, double mixingVariance, double alpha)
    {
        if (!(alpha > 0 && alpha < 1) || !(variance > 0) || !(mixingVariance > 0) || !double.IsFinite(variance) || !double.IsFinite(mixingVariance))
            return double.NaN;
        var sum = variance + mixingVariance;
        return Math.Sqrt(2 * variance * sum / mixingVariance * (Math.Log(1 / alpha) + 0.5 * Math.Log(sum / variance)));
    }
}
