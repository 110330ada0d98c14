using MathNet.Numerics;

namespace StreamPersonalization.Core.Statistics.Detectors;

/// <summary>Chi-square goodness-of-fit verdict: X², degrees of freedom, p-value and whether p &lt; α.</summary>
public sealed record SrmResult(double Statistic, int DegreesOfFreedom, double PValue, bool Fired, DetectorError Error)
{
    /// <summary>True when the verdict is valid.</summary>
    public bool Ok => Error == DetectorError.None;

    internal static SrmResult Fail(DetectorError e) => new(double.NaN, 0, double.NaN, false, e);
}

/// <summary>
/// Sample-ratio mismatch: X² = Σ (O_i − E_i)² / E_i with E_i = N · share_i, p = P(χ²_{k−1} ≥ X²).
/// Why: a split that is not the one configured means assignment or logging is broken, and every other result is suspect.
/// The strict default α = 0.0005 keeps false alarms rare because the check runs continuously.
/// </summary>
public static class SampleRatioMismatch
{
    /// <summary>Checks observed counts against the intended shares (normalised to sum to 1, so weights are accepted).</summary>
    public static SrmResult Check(long[] counts, double[] intendedShares, double alpha = 0.0005)
    {
        if (counts is null || intendedShares is null || counts.Length != intendedShares.Length || counts.Length < 2)
            return SrmResult.Fail(DetectorError.ShapeMismatch);
        if (!(alpha > 0 && alpha < 1)) return SrmResult.Fail(DetectorError.InvalidAlpha);
        double total = 0, shareSum = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] < 0) return SrmResult.Fail(DetectorError.NegativeCount);
            if (!(intendedShares[i] > 0) || !double.IsFinite(intendedShares[i])) return SrmResult.Fail(DetectorError.InvalidShare);
            total += counts[i];
            shareSum += intendedShares[i];
        }
        if (total == 0) return SrmResult.Fail(DetectorError.NoObservations);
        double x2 = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            var expected = total * intendedShares[i] / shareSum;
            var d = counts[i] - expected;
            x2 += d * d / expected;
        }
        var df = counts.Length - 1;
        // Upper tail Q(df/2, X²/2) = 1 − ChiSquared.CDF(df, X²), computed directly so tiny p-values keep their digits.
        var p = SpecialFunctions.GammaUpperRegularized(df / 2.0, x2 / 2.0);
        return new(x2, df, p, p < alpha, DetectorError.None);
    }
}
