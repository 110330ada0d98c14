using MathNet.Numerics;

namespace StreamPersonalization.Core.Privacy.DifferentialPrivacy;

/// <summary>σ for the Gaussian mechanism, or the reason it cannot be calibrated (σ is NaN then).</summary>
public sealed record GaussianSigma(double Sigma, GaussianCalibration Calibration, DpError Error)
{
    public bool Ok => Error == DpError.None;
}

/// <summary>
/// Gaussian mechanism: releasing f(D) + N(0, σ²) with L2 sensitivity Δ₂. σ comes from the analytic calibration of
/// Balle &amp; Wang (2018) by default (exact, any ε), or from the classic Dwork–Roth bound (ε &lt; 1 only). See
/// <see cref="GaussianCalibration"/>.
/// </summary>
public static class GaussianMechanism
{
    /// <summary>Largest ε accepted: e^ε·Φ(…) stays finite well past it, and no meaningful release uses more.</summary>
    public const double MaxEpsilon = 100;

    /// <summary>Calibrates σ for (Δ, ε, δ).</summary>
    public static GaussianSigma Sigma(double sensitivity, double epsilon, double delta, GaussianCalibration calibration = GaussianCalibration.Analytic)
    {
        var error = Check(sensitivity, epsilon, delta);
        if (error == DpError.None && calibration == GaussianCalibration.Classic && epsilon >= 1) error = DpError.ClassicBoundNeedsEpsilonBelowOne;
        if (error != DpError.None) return new(double.NaN, calibration, error);
        var sigma = calibration == GaussianCalibration.Classic
            ? ClassicSigma(sensitivity, epsilon, delta)
            : AnalyticSigma(sensitivity, epsilon, delta);
        return new(sigma, calibration, DpError.None);
    }

    /// <summary>value + N(0, σ²) with σ from <see cref="Sigma"/>.</summary>
    public static NoisyValue Release(double value, double sensitivity, double epsilon, double delta, NoiseSource noise,
        GaussianCalibration calibration = GaussianCalibration.Analytic)
    {
        if (!double.IsFinite(value)) return NoisyValue.Fail(DpMechanism.Gaussian, noise, DpError.NonFiniteValue);
        var s = Sigma(sensitivity, epsilon, delta, calibration);
        if (!s.Ok) return NoisyValue.Fail(DpMechanism.Gaussian, noise, s.Error);
        var index = noise.Draws;
        return new(value + noise.NextGaussian(s.Sigma), DpMechanism.Gaussian, s.Sigma, noise.Seed, index, DpError.None);
    }

    // Dwork & Roth Theorem A.1: σ = Δ·√(2 ln(1.25/δ))/ε (for ε < 1).
    public static double ClassicSigma(double sensitivity, double epsilon, double delta) =>
        sensitivity * Math.Sqrt(2 * Math.Log(1.25 / delta)) / epsilon;

    // Balle & Wang Theorem 8: δ(σ) = Φ(Δ/2σ − εσ/Δ) − e^ε·Φ(−Δ/2σ − εσ/Δ), the exact δ the mechanism achieves at ε.
    public static double PrivacyLossDelta(double sigma, double sensitivity, double epsilon)
    {
        var a = sensitivity / (2 * sigma);
        var b = epsilon * sigma / sensitivity;
        return Phi(a - b) - Math.Exp(epsilon) * Phi(-a - b);
    }

    /// <summary>
    /// Smallest σ with <see cref="PrivacyLossDelta"/> ≤ δ, by bisection (δ(σ) decreases in σ). Returns the upper end
    /// of the final bracket, so the returned σ always satisfies the bound; relative width 1e-12.
    /// </summary>
    public static double AnalyticSigma(double sensitivity, double epsilon, double delta)
    {
        var hi = sensitivity / epsilon;
        while (PrivacyLossDelta(hi, sensitivity, epsilon) > delta) hi *= 2;
        var lo = hi / 2;
        while (lo > 1e-300 && PrivacyLossDelta(lo, sensitivity, epsilon) <= delta) { hi = lo; lo /= 2; }
        for (var i = 0; i < 200 && hi - lo > 1e-12 * hi; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (PrivacyLossDelta(mid, sensitivity, epsilon) > delta) lo = mid; else hi = mid;
        }
        return hi;
    }

    // Φ(x) = ½·erfc(−x/√2), accurate far into the lower tail.
    private static double Phi(double x) => 0.5 * SpecialFunctions.Erfc(-x / Constants.Sqrt2);

    // F(x) = Φ(x/σ).
    public static double Cdf(double x, double sigma) => Phi(x / sigma);

    internal static DpError Check(double sensitivity, double epsilon, double delta)
    {
        var e = LaplaceMechanism.Check(sensitivity, epsilon);
        if (e != DpError.None) return e;
        if (epsilon > MaxEpsilon) return DpError.InvalidEpsilon;
        if (!(delta > 0 && delta < 1)) return DpError.InvalidDelta;
        return DpError.None;
    }
}
