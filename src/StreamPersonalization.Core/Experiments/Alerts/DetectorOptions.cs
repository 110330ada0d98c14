using System.Globalization;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>
/// Experiment detector settings (configuration section <c>Detectors</c>). The chart parameters, minute-series settings
/// and τ² values are fixed into an experiment's state when it is created (changing them later does not alter a running
/// test, which would invalidate it); <see cref="GuardrailAlpha"/> and <see cref="QuietEvaluationsToResolve"/> act at each evaluation.
/// </summary>
public sealed record DetectorOptions
{
    /// <value>EWMA smoothing weight λ of the per-minute conversion-rate chart. Default 0.2. Allowed (0, 1].</value>
    public double EwmaLambda { get; init; } = 0.2;

    /// <value>EWMA control-limit width L in σ of the smoothed statistic. Default 4.5 (see <see cref="Statistics.Detectors.Ewma.Create"/>). Allowed (0, 20].</value>
    public double EwmaLimit { get; init; } = 4.5;

    /// <value>CUSUM reference value k in σ (half the step size it is tuned to). Default 1. Allowed [0, 10].</value>
    public double CusumK { get; init; } = 1;

    /// <value>CUSUM decision interval h in σ. Default 6. Allowed (0, 50].</value>
    public double CusumH { get; init; } = 6;

    /// <value>Final minutes each chart uses to learn its baseline before it may alarm. Default 120. Allowed 2..10080.</value>
    public int AnomalyWarmUpMinutes { get; init; } = 120;

    /// <value>Exposures an arm needs in a minute for that minute's rate to enter the charts (fewer is too noisy). Default 50. Allowed 1..1000000.</value>
    public int MinimumExposuresPerMinute { get; init; } = 50;

    /// <value>Final minutes kept per arm as the bounded series shown as evidence. Default 60. Allowed 1..1440.</value>
    public int SeriesMinutes { get; init; } = 60;

    /// <value>A guardrail is breached when its always-valid one-sided p-value falls below this (and the estimate is on the harmful side). Default 0.05. Allowed (0, 0.5].</value>
    public double GuardrailAlpha { get; init; } = 0.05;

    /// <value>Mixing variance τ² of the <c>conversion</c> guardrail test (squared plausible rate difference). Default 1e-4 (one point). Allowed &gt; 0.</value>
    public double ConversionMixingVariance { get; init; } = 1e-4;

    /// <value>Mixing variance τ² of the <c>revenue</c> guardrail test, in squared currency units per user. Default 1. Allowed &gt; 0.</value>
    public double RevenueMixingVariance { get; init; } = 1.0;

    /// <value>Consecutive evaluations without a finding before a raised alert is resolved (hysteresis). Default 3. Allowed 1..1000.</value>
    public int QuietEvaluationsToResolve { get; init; } = 3;

    /// <summary>The defaults.</summary>
    public static DetectorOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the key and the allowed values when a setting is out of range.</summary>
    public DetectorOptions Validate()
    {
        Check(EwmaLambda > 0 && EwmaLambda <= 1, nameof(EwmaLambda), EwmaLambda, "(0, 1]");
        Check(EwmaLimit > 0 && EwmaLimit <= 20, nameof(EwmaLimit), EwmaLimit, "(0, 20]");
        Check(CusumK >= 0 && CusumK <= 10, nameof(CusumK), CusumK, "[0, 10]");
        Check(CusumH > 0 && CusumH <= 50, nameof(CusumH), CusumH, "(0, 50]");
        Check(AnomalyWarmUpMinutes is >= 2 and <= 10080, nameof(AnomalyWarmUpMinutes), AnomalyWarmUpMinutes, "2..10080");
        Check(MinimumExposuresPerMinute is >= 1 and <= 1_000_000, nameof(MinimumExposuresPerMinute), MinimumExposuresPerMinute, "1..1000000");
        Check(SeriesMinutes is >= 1 and <= 1440, nameof(SeriesMinutes), SeriesMinutes, "1..1440");
        Check(GuardrailAlpha > 0 && GuardrailAlpha <= 0.5, nameof(GuardrailAlpha), GuardrailAlpha, "(0, 0.5]");
        Check(ConversionMixingVariance > 0 && double.IsFinite(ConversionMixingVariance), nameof(ConversionMixingVariance), ConversionMixingVariance, "a finite number > 0");
        Check(RevenueMixingVariance > 0 && double.IsFinite(RevenueMixingVariance), nameof(RevenueMixingVariance), RevenueMixingVariance, "a finite number > 0");
        Check(QuietEvaluationsToResolve is >= 1 and <= 1000, nameof(QuietEvaluationsToResolve), QuietEvaluationsToResolve, "1..1000");
        return this;
    }

    internal static void Check(bool ok, string name, object value, string allowed, string section = "Detectors")
    {
        var key = $"{section}:{name}";
        if (!ok) throw new ArgumentOutOfRangeException(key, value, string.Create(CultureInfo.InvariantCulture, $"Configuration key '{key}' is {value}; allowed: {allowed}."));
    }
}
