namespace StreamPersonalization.Core.Privacy.DifferentialPrivacy;

/// <summary>Noise distribution of a differentially private release.</summary>
public enum DpMechanism
{
    /// <summary>Laplace(b = Δ₁/ε): pure ε-DP (δ = 0).</summary>
    Laplace,

    /// <summary>Normal(0, σ²) with σ calibrated to (ε, δ) for the L2 sensitivity Δ₂.</summary>
    Gaussian,
}

/// <summary>How the Gaussian mechanism's σ is derived from (Δ, ε, δ).</summary>
public enum GaussianCalibration
{
    /// <summary>
    /// Balle &amp; Wang (2018), "Improving the Gaussian Mechanism for Differential Privacy", Theorem 8: the smallest σ with
    /// Φ(Δ/2σ − εσ/Δ) − e^ε·Φ(−Δ/2σ − εσ/Δ) ≤ δ. Exact (necessary and sufficient), valid for every ε &gt; 0. Default.
    /// </summary>
    Analytic,

    /// <summary>Dwork &amp; Roth (2014), Theorem A.1: σ = Δ·√(2 ln(1.25/δ))/ε. Sufficient only, and only for ε &lt; 1.</summary>
    Classic,
}

/// <summary>Why a mechanism could not be applied. Results carry this instead of throwing.</summary>
public enum DpError
{
    None = 0,

    /// <summary>ε is not a finite number &gt; 0.</summary>
    InvalidEpsilon,

    /// <summary>δ is not in (0, 1) (Gaussian), or not 0 where only pure DP is possible.</summary>
    InvalidDelta,

    /// <summary>The sensitivity is not a finite number &gt; 0.</summary>
    InvalidSensitivity,

    /// <summary>The true value is NaN or infinite.</summary>
    NonFiniteValue,

    /// <summary>The classic Gaussian bound was asked for with ε ≥ 1, where it does not hold.</summary>
    ClassicBoundNeedsEpsilonBelowOne,
}

/// <summary>
/// One noisy release: <see cref="Value"/> = true value + noise, the noise's <see cref="Scale"/> (Laplace b or
/// Gaussian σ), and where the draw came from (<see cref="Seed"/>, zero-based <see cref="DrawIndex"/> in that seeded
/// stream) so the release can be reproduced. The seed reveals the noise: keep it as secret as the raw data.
/// Value is NaN when <see cref="Error"/> is set.
/// </summary>
public sealed record NoisyValue(double Value, DpMechanism Mechanism, double Scale, ulong Seed, long DrawIndex, DpError Error)
{
    public bool Ok => Error == DpError.None;

    internal static NoisyValue Fail(DpMechanism mechanism, NoiseSource noise, DpError error) =>
        new(double.NaN, mechanism, double.NaN, noise.Seed, -1, error);

    public override string ToString() =>
        Ok ? $"NoisyValue({Value:G6}, {Mechanism} scale={Scale:G6}, draw #{DrawIndex})" : $"NoisyValue(error={Error})";
}
