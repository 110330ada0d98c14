using MathNet.Numerics;
using StreamPersonalization.Core.Statistics.Detectors;
using StreamPersonalization.Core.Statistics.Sequential;

namespace StreamPersonalization.Core.Tests.Statistics.Detectors;

public class OneSidedMsprtTests
{
    /// <summary>
    /// Independent reference: the mixture ∫ LR(θ) · 2φ(θ/τ)/τ dθ over the harmful half-line with LR(θ) = exp((θθ̂ − θ²/2)/V),
    /// by adaptive Gauss–Kronrod quadrature on [−12τ, 0] or [0, 12τ] (the half-normal has no mass beyond).
    /// </summary>
    private static double Quadrature(double d, double v, double tau2, HarmSide harm)
    {
        var tau = Math.Sqrt(tau2);
        double Integrand(double t) => Math.Exp((t * d - t * t / 2) / v) * 2 * Math.Exp(-t * t / (2 * tau2)) / (tau * Math.Sqrt(2 * Math.PI));
        return harm == HarmSide.Decrease
            ? Integrate.GaussKronrod(Integrand, -12 * tau, 0, 1e-13)
            : Integrate.GaussKronrod(Integrand, 0, 12 * tau, 1e-13);
    }

    [Theory]
    [InlineData(-0.02, 1.6e-5, 1e-4)]
    [InlineData(0.01, 4e-5, 1e-4)]
    [InlineData(0.0, 1e-4, 1e-4)]
    [InlineData(-1.3, 0.5, 1.0)]
    [InlineData(0.4, 0.09, 0.25)]
    public void LogStatistic_MatchesNumericalMixtureIntegral(double difference, double variance, double tau2)
    {
        foreach (var harm in new[] { HarmSide.Decrease, HarmSide.Increase })
        {
            var expected = Quadrature(difference, variance, tau2, harm);
            var actual = Math.Exp(OneSidedMsprt.LogStatistic(difference, variance, tau2, harm));
            Assert.True(Math.Abs(actual - expected) <= 1e-8 * Math.Max(1, expected), $"{harm}: {actual} vs quadrature {expected}");
        }
    }

    [Fact]
    public void LogStatistic_BothSidesSumToTwiceTheTwoSidedMixture()
    {
        var rng = new Random(5);
        for (var i = 0; i < 1000; i++)
        {
            var (d, v, tau2) = (rng.NextDouble() * 2 - 1, 0.001 + rng.NextDouble(), 0.01 + rng.NextDouble());
            var sum = Math.Exp(OneSidedMsprt.LogStatistic(d, v, tau2, HarmSide.Decrease)) + Math.Exp(OneSidedMsprt.LogStatistic(d, v, tau2, HarmSide.Increase));
            Assert.Equal(2 * Msprt.Statistic(d, v, tau2), sum, 1e-9 * sum);
        }
    }

    [Theory]
    [InlineData(40.0)]   // x = −28.3: Φ(x) ≈ 1e-176, still representable
    [InlineData(60.0)]   // x = −42.4: Φ(x) underflows, so the Mills-ratio asymptote takes over
    public void LogStatistic_FarOnHarmlessSide_MatchesQuadrature(double difference)
    {
        var log = OneSidedMsprt.LogStatistic(difference, 1, 1, HarmSide.Decrease);
        var expected = Quadrature(difference, 1, 1, HarmSide.Decrease);
        Assert.True(double.IsFinite(log));
        Assert.True(Math.Abs(Math.Exp(log) / expected - 1) < 1e-7, $"{Math.Exp(log)} vs quadrature {expected}");
    }

    [Theory]
    [InlineData(-29.0)]
    [InlineData(-30.0000001)]   // just past the switch to the asymptotic series
    [InlineData(-37.0)]         // Φ(−37) ≈ 6e-300, the last region where erfc is still representable
    public void LogNormalCdf_AgreesWithErfcOnBothSidesOfTheSwitch(double x)
    {
        var viaErfc = Math.Log(0.5 * SpecialFunctions.Erfc(-x / Math.Sqrt(2)));
        // The series' relative error is about 15/x⁶ (2e-8 at x = −30), i.e. that much in the log.
        Assert.True(Math.Abs(OneSidedMsprt.LogNormalCdf(x) - viaErfc) < 5e-8, $"{OneSidedMsprt.LogNormalCdf(x)} vs {viaErfc}");
    }

    [Fact]
    public void Update_InvalidEstimate_LeavesStateAndReportsError()
    {
        var s = OneSidedMsprtState.Start(HarmSide.Decrease, 1e-4);
        var (same, error) = s.Update(new DifferenceEstimate(double.NaN, double.NaN, SequentialError.TooFewObservations));
        Assert.Same(s, same);
        Assert.Equal(SequentialError.TooFewObservations, error);
        var (next, ok) = s.Update(new DifferenceEstimate(-0.05, 1e-4, SequentialError.None));
        Assert.Equal(SequentialError.None, ok);
        Assert.Equal(1, next.Looks);
        Assert.Equal(Math.Min(1, Math.Exp(-OneSidedMsprt.LogStatistic(-0.05, 1e-4, 1e-4, HarmSide.Decrease))), next.PValue, 15);
        var (after, _) = next.Update(new DifferenceEstimate(0.05, 1e-4, SequentialError.None));
        Assert.Equal(next.PValue, after.PValue);   // a running minimum never rises
    }
}
