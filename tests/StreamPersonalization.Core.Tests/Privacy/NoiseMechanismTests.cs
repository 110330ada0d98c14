using StreamPersonalization.Core.Privacy.DifferentialPrivacy;
using StreamPersonalization.Core.Privacy.Verification;
using StreamPersonalization.Core.Tests.Statistics.Frequentist;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class NoiseMechanismTests(ITestOutputHelper output)
{
    // Significance of every goodness-of-fit check below; each uses a fixed seed, so its verdict is reproducible.
    private const double Alpha = 0.01;
    private const int Draws = 20_000;

    private static double[] Sample(ulong seed, Func<NoiseSource, double> draw)
    {
        var noise = new NoiseSource(seed);
        return Enumerable.Range(0, Draws).Select(_ => draw(noise)).ToArray();
    }

    [Fact]
    public void LaplaceRelease_Noise_FollowsLaplaceOfSensitivityOverEpsilon_KsAtOnePercent()
    {
        // Δ = 5, ε = 2 ⇒ b = 2.5. The released value minus the true value must be Laplace(0, 2.5).
        var noise = new NoiseSource(20261122);
        var residuals = Enumerable.Range(0, Draws).Select(_ => LaplaceMechanism.Release(100, 5, 2, noise).Value - 100).ToArray();
        var fit = KolmogorovSmirnov.OneSample(residuals, x => LaplaceMechanism.Cdf(x, 2.5));
        output.WriteLine($"Laplace(2.5), {Draws} draws: {fit}");
        Assert.True(fit.PValue >= Alpha, fit.ToString());
        // The same sample against a 20 % wider Laplace is rejected: the test has power at this sample size.
        var wrong = KolmogorovSmirnov.OneSample(residuals, x => LaplaceMechanism.Cdf(x, 3.0));
        Assert.True(wrong.PValue < Alpha, wrong.ToString());
    }

    [Fact]
    public void GaussianRelease_Noise_FollowsCalibratedNormal_KsAtOnePercent()
    {
        var sigma = GaussianMechanism.Sigma(5, 1, 1e-5).Sigma;   // analytic: 5 · 3.73063… = 18.653…
        var noise = new NoiseSource(7);
        var residuals = Enumerable.Range(0, Draws).Select(_ => GaussianMechanism.Release(100, 5, 1, 1e-5, noise).Value - 100).ToArray();
        var fit = KolmogorovSmirnov.OneSample(residuals, x => GaussianMechanism.Cdf(x, sigma));
        output.WriteLine($"Gaussian(σ={sigma:G6}), {Draws} draws: {fit}");
        Assert.True(fit.PValue >= Alpha, fit.ToString());
        var wrong = KolmogorovSmirnov.OneSample(residuals, x => GaussianMechanism.Cdf(x, sigma * 1.1));
        Assert.True(wrong.PValue < Alpha, wrong.ToString());
    }

    [Fact]
    public void Release_ReturnsSeedScaleAndConsecutiveDrawIndexes_AndReplaysFromTheSeed()
    {
        var a = new NoiseSource(99);
        var first = LaplaceMechanism.Release(10, 1, 0.5, a);
        var second = GaussianMechanism.Release(10, 1, 0.5, 1e-6, a);
        Assert.Equal((99UL, 0L, 2.0), (first.Seed, first.DrawIndex, first.Scale));
        Assert.Equal((99UL, 1L), (second.Seed, second.DrawIndex));
        var b = new NoiseSource(99);
        Assert.Equal(first.Value, LaplaceMechanism.Release(10, 1, 0.5, b).Value);
        Assert.Equal(second.Value, GaussianMechanism.Release(10, 1, 0.5, 1e-6, b).Value);
    }

    [Theory]
    // SciPy 1.10.1 reference: brentq(lambda s: norm.cdf(1/(2s) − ε·s) − exp(ε)·norm.cdf(−1/(2s) − ε·s) − δ, 1e-3, 100,
    // xtol=1e-14, rtol=1e-15), i.e. Balle & Wang (2018) Theorem 8 solved for σ at Δ = 1.
    [InlineData(1.0, 1e-5, 3.7306316348159436)]
    [InlineData(0.5, 1e-6, 8.057618480725038)]
    [InlineData(3.0, 1e-5, 1.3905934566745366)]
    [InlineData(0.25, 2.5e-7, 16.59394762831855)]
    public void AnalyticSigma_MatchesScipyRootOfBalleWangCondition(double epsilon, double delta, double scipy)
    {
        Precision.Digits(scipy, GaussianMechanism.Sigma(1, epsilon, delta).Sigma, 9);
        Precision.Digits(7 * scipy, GaussianMechanism.Sigma(7, epsilon, delta).Sigma, 9);   // σ scales with Δ
    }

    [Theory]
    [InlineData(1.0, 1e-5)]
    [InlineData(0.3, 1e-6)]
    public void AnalyticSigma_AchievesDelta_ByNumericalHockeyStickIntegral(double epsilon, double delta)
    {
        // Independent of the closed form: δ(ε) = ∫ max(0, p(x) − e^ε·q(x)) dx for p = N(0, σ²), q = N(Δ, σ²) (the
        // hockey-stick divergence), by Simpson's rule on [−40σ, 40σ].
        const double sensitivity = 2;
        var sigma = GaussianMechanism.Sigma(sensitivity, epsilon, delta).Sigma;
        double Density(double x, double mu) => Math.Exp(-0.5 * Math.Pow((x - mu) / sigma, 2)) / (sigma * Math.Sqrt(2 * Math.PI));
        double F(double x) => Math.Max(0, Density(x, 0) - Math.Exp(epsilon) * Density(x, sensitivity));
        const int steps = 400_000;
        double lo = -40 * sigma, h = 80 * sigma / steps, sum = F(lo) + F(lo + steps * h);
        for (var i = 1; i < steps; i++) sum += (i % 2 == 1 ? 4 : 2) * F(lo + i * h);
        Precision.Digits(delta, sum * h / 3, 5);
    }

    [Fact]
    public void ClassicSigma_IsTheDworkRothFormula_LargerThanAnalytic_AndRefusedForEpsilonAtLeastOne()
    {
        // √(2·ln(1.25/1e-5))/0.5 = √(2·11.7360690…)/0.5 = 9.68959…
        var classic = GaussianMechanism.Sigma(1, 0.5, 1e-5, GaussianCalibration.Classic);
        Precision.Digits(Math.Sqrt(2 * Math.Log(125_000)) / 0.5, classic.Sigma, 12);
        Assert.True(classic.Sigma > GaussianMechanism.Sigma(1, 0.5, 1e-5).Sigma);
        Assert.Equal(DpError.ClassicBoundNeedsEpsilonBelowOne, GaussianMechanism.Sigma(1, 1, 1e-5, GaussianCalibration.Classic).Error);
    }

    [Fact]
    public void Release_InvalidParameters_ReturnErrorsNotExceptions()
    {
        var n = new NoiseSource(1);
        Assert.Equal(DpError.InvalidEpsilon, LaplaceMechanism.Release(1, 1, 0, n).Error);
        Assert.Equal(DpError.InvalidSensitivity, LaplaceMechanism.Release(1, -1, 1, n).Error);
        Assert.Equal(DpError.NonFiniteValue, LaplaceMechanism.Release(double.NaN, 1, 1, n).Error);
        Assert.Equal(DpError.InvalidDelta, GaussianMechanism.Release(1, 1, 1, 0, n).Error);
        Assert.Equal(DpError.InvalidDelta, GaussianMechanism.Release(1, 1, 1, 1, n).Error);
        Assert.True(double.IsNaN(LaplaceMechanism.Release(1, 1, 0, n).Value));
        Assert.Equal(0, n.Draws);   // failed releases consume no randomness
    }

    [Fact]
    public void DeriveSeed_IsKeyedAndContextSpecific()
    {
        var key = new byte[32];
        Assert.Equal(NoiseSource.DeriveSeed(key, "2026-11-22"), NoiseSource.DeriveSeed(key, "2026-11-22"));
        Assert.NotEqual(NoiseSource.DeriveSeed(key, "2026-11-22"), NoiseSource.DeriveSeed(key, "2026-11-23"));
        key[0] = 1;
        Assert.NotEqual(NoiseSource.DeriveSeed(new byte[32], "2026-11-22"), NoiseSource.DeriveSeed(key, "2026-11-22"));
    }
}
