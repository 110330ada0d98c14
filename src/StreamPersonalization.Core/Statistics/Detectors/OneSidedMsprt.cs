using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Statistics.Detectors;

/// <summary>The side of θ = treatment − control that counts as harm.</summary>
public enum HarmSide : byte
{
    /// <summary>Harm is θ &lt; 0 (a metric that must not decrease).</summary>
    Decrease = 1,
    /// <summary>Harm is θ &gt; 0 (a metric that must not increase).</summary>
    Increase = 2,
}

/// <summary>
/// One-sided mixture SPRT for a difference in means: the normal mixture of <see cref="Msprt"/> restricted to the harmful
/// half-line (a half-normal mixing density 2φ(θ/τ)/τ on θ &lt; 0 or θ &gt; 0). Integrating the likelihood ratio gives
/// Λ₁ = 2 · Λ · Φ(s · θ̂ · τ / √(V(V+τ²))), with Λ the two-sided statistic and s = −1 for harm = decrease, +1 for increase.
/// Why one-sided: a guardrail only asks "is the treatment worse?", so no evidence is spent on improvements; Λ₁ is a
/// non-negative martingale with mean 1 under θ = 0 (and is monotone in θ̂, so the bound also holds for θ on the harmless side),
/// hence p = min 1/Λ₁ over looks is an always-valid p-value for "no harm".
/// </summary>
public static class OneSidedMsprt
{
    /// <summary>ln Λ₁ = ln 2 + ln Λ + ln Φ(s θ̂ τ/√(V(V+τ²))); NaN on invalid input (non-finite θ̂, V ≤ 0, τ² ≤ 0).</summary>
    public static double LogStatistic(double difference, double variance, double mixingVariance, HarmSide harm)
    {
        var twoSided = Msprt.LogStatistic(difference, variance, mixingVariance);
        if (double.IsNaN(twoSided)) return double.NaN;
        var sign = harm == HarmSide.Decrease ? -1.0 : 1.0;
        var x = sign * difference * Math.Sqrt(mixingVariance / (variance * (variance + mixingVariance)));
        return Math.Log(2) + twoSided + LogNormalCdf(x);
    }

    /// <summary>
    /// ln Φ(x), with the asymptotic series Φ(x) ≈ φ(x)/|x| · (1 − 1/x² + 3/x⁴) below −30, where Φ underflows
    /// (relative error there ≈ 15/x⁶ &lt; 2e-8).
    /// </summary>
    internal static double LogNormalCdf(double x)
    {
        if (x < -30)
        {
            var inv2 = 1 / (x * x);
            return -x * x / 2 - Math.Log(-x) - 0.5 * Math.Log(2 * Math.PI) + Math.Log(1 - inv2 + 3 * inv2 * inv2);
        }
        return Math.Log(0.5 * MathNet.Numerics.SpecialFunctions.Erfc(-x / Math.Sqrt(2)));
    }
}

/// <summary>
/// Running always-valid p-value of a <see cref="OneSidedMsprt"/>: p_n = min(1, min_{m ≤ n} 1/Λ₁_m). Immutable, so an
/// experiment entity stores it and a replay reproduces it.
/// </summary>
public sealed record OneSidedMsprtState(HarmSide Harm, double MixingVariance, double PValue, long Looks)
{
    /// <summary>A fresh test: p = 1, no looks.</summary>
    public static OneSidedMsprtState Start(HarmSide harm, double mixingVariance) => new(harm, mixingVariance, 1.0, 0);

    /// <summary>Folds one look at the cumulative estimate in; an invalid estimate leaves the state unchanged and says why.</summary>
    public (OneSidedMsprtState State, SequentialError Error) Update(DifferenceEstimate estimate)
    {
        if (!estimate.Ok) return (this, estimate.Error);
        if (!(MixingVariance > 0) || !double.IsFinite(MixingVariance)) return (this, SequentialError.NonPositiveMixingVariance);
        var log = OneSidedMsprt.LogStatistic(estimate.Difference, estimate.Variance, MixingVariance, Harm);
        if (double.IsNaN(log)) return (this, SequentialError.NonFinite);
        return (this with { PValue = Math.Min(PValue, Math.Min(1.0, Math.Exp(-log))), Looks = Looks + 1 }, SequentialError.None);
    }

    /// <summary>Writes the fields (part of the experiment state's binary format).</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write((byte)Harm);
        w.Write(MixingVariance);
        w.Write(PValue);
        w.Write(Looks);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote.</summary>
    public static OneSidedMsprtState ReadFrom(BinaryReader r) => new((HarmSide)r.ReadByte(), r.ReadDouble(), r.ReadDouble(), r.ReadInt64());
}
