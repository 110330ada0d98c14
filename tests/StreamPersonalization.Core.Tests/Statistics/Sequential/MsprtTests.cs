using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Tests.Statistics.Sequential;

public sealed class MsprtTests
{
    [Fact]
    public void Statistic_NoEffect_IsVarianceRatioRoot()
    {
        // θ̂ = 0 ⇒ Λ = √(V/(V+τ²)); V = 0.01, τ² = 0.03 ⇒ Λ = 0.5.
        Assert.Equal(0.5, Msprt.Statistic(0, 0.01, 0.03), 14);
    }

    [Fact]
    public void Update_EffectGivingLambdaTwenty_PValueIsFivePercent()
    {
        // With τ² = V, Λ = exp(θ̂²/(4V))/√2, so θ̂² = 4V·ln(20√2) gives Λ = 20 and p = 1/Λ = 0.05 (Johari et al. 2017, eq. for the normal mixture).
        const double v = 0.002;
        var theta = Math.Sqrt(4 * v * Math.Log(20 * Math.Sqrt(2)));
        var step = MsprtState.Start(v).Update(theta, v);
        Assert.True(step.Ok);
        Assert.Equal(0.05, step.State.PValue, 12);
        Assert.Equal(Math.Log(20), step.LogStatistic, 12);
    }

    [Fact]
    public void Update_PValue_NeverIncreases()
    {
        var s = MsprtState.Start(0.01);
        s = s.Update(0.2, 0.004).State;
        var low = s.PValue;
        s = s.Update(0.0, 0.002).State;
        Assert.Equal(low, s.PValue);
        Assert.Equal(2, s.Looks);
        Assert.True(low < 1);
    }

    [Fact]
    public void Update_WeakEvidence_PValueCappedAtOne()
    {
        Assert.Equal(1.0, MsprtState.Start(0.01).Update(0.0, 0.01).State.PValue);
    }

    [Fact]
    public void ConfidenceRadius_AtBoundary_LambdaEqualsOneOverAlpha()
    {
        // The confidence sequence is {θ₀ : Λ(θ̂ − θ₀) < 1/α}; at the radius Λ = 1/α exactly.
        double v = 0.003, tau2 = 0.01, alpha = 0.05;
        var r = Msprt.ConfidenceRadius(v, tau2, alpha);
        Assert.Equal(Math.Log(1 / alpha), Msprt.LogStatistic(r, v, tau2), 10);
        Assert.True(r > 1.959963984540054 * Math.Sqrt(v), "an always-valid interval is wider than the fixed-horizon one");
    }

    [Fact]
    public void DifferenceInMeans_IsTreatmentMinusControlWithSummedVariances()
    {
        var d = Msprt.DifferenceInMeans(100, 1.0, 4.0, 200, 1.5, 8.0);
        Assert.Equal(0.5, d.Difference, 14);
        Assert.Equal(0.08, d.Variance, 14);
    }

    [Fact]
    public void DegenerateInput_ReportsErrorsAndKeepsState()
    {
        var s = MsprtState.Start(0.01);
        Assert.Equal(SequentialError.NonPositiveVariance, s.Update(0.1, 0).Error);
        Assert.Same(s, s.Update(double.NaN, 1).State);
        Assert.Equal(SequentialError.NonPositiveMixingVariance, MsprtState.Start(0).Update(0.1, 0.1).Error);
        Assert.Equal(SequentialError.TooFewObservations, Msprt.DifferenceInMeans(1, 0, 1, 10, 0, 1).Error);
        Assert.Equal(SequentialError.TooFewObservations, s.Update(Msprt.DifferenceInMeans(1, 0, 1, 10, 0, 1)).Error);
        Assert.True(double.IsNaN(Msprt.ConfidenceRadius(0.1, 0.1, 1.5)));
    }
}
