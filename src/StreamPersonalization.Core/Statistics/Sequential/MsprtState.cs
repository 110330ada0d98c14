namespace StreamPersonalization.Core.Statistics.Sequential;

/// <summary>
/// Running always-valid p-value p_n = min(1, min_{m ≤ n} 1/Λ_m) of an mSPRT with mixing variance τ².
/// Immutable: <see cref="Update"/> returns the next state, so an experiment entity can store it and replay safely.
/// The running minimum is what makes the p-value valid under continuous monitoring: it never increases.
/// </summary>
public sealed record MsprtState(double MixingVariance, double PValue, long Looks)
{
    /// <summary>A fresh test: p = 1, no looks. τ² should be on the scale of plausible squared effects.</summary>
    public static MsprtState Start(double mixingVariance) => new(mixingVariance, 1.0, 0);

    /// <summary>Folds one look at the cumulative data (θ̂, V) in; on invalid input the state is returned unchanged with the error.</summary>
    public MsprtStep Update(double difference, double variance)
    {
        if (!(MixingVariance > 0) || !double.IsFinite(MixingVariance)) return new(this, double.NaN, SequentialError.NonPositiveMixingVariance);
        if (!double.IsFinite(difference) || !double.IsFinite(variance)) return new(this, double.NaN, SequentialError.NonFinite);
        if (!(variance > 0)) return new(this, double.NaN, SequentialError.NonPositiveVariance);
        var logLambda = Msprt.LogStatistic(difference, variance, MixingVariance);
        var p = Math.Min(PValue, Math.Min(1.0, Math.Exp(-logLambda)));
        return new(this with { PValue = p, Looks = Looks + 1 }, logLambda, SequentialError.None);
    }

    /// <summary>Folds in a look given as a <see cref="DifferenceEstimate"/>.</summary>
    public MsprtStep Update(DifferenceEstimate estimate) =>
        estimate.Ok ? Update(estimate.Difference, estimate.Variance) : new(this, double.NaN, estimate.Error);
}

/// <summary>The state after one look, ln Λ at that look, and why the look was ignored if it was.</summary>
public sealed record MsprtStep(MsprtState State, double LogStatistic, SequentialError Error)
{
    /// <summary>True when the look was folded in.</summary>
    public bool Ok => Error == SequentialError.None;
}
