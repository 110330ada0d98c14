namespace StreamPersonalization.Core.Privacy.DifferentialPrivacy;

/// <summary>
/// Laplace mechanism (Dwork, McSherry, Nissim, Smith 2006): releasing f(D) + Lap(b) with b = Δ₁/ε is ε-DP when
/// every pair of neighbouring datasets changes f by at most Δ₁ (L1 sensitivity).
/// </summary>
public static class LaplaceMechanism
{
    /// <summary>Scale b = Δ₁/ε, or NaN for invalid input.</summary>
    public static double Scale(double sensitivity, double epsilon) =>
        Check(sensitivity, epsilon) == DpError.None ? sensitivity / epsilon : double.NaN;

    /// <summary>value + Lap(Δ₁/ε) from <paramref name="noise"/>.</summary>
    public static NoisyValue Release(double value, double sensitivity, double epsilon, NoiseSource noise)
    {
        var error = double.IsFinite(value) ? Check(sensitivity, epsilon) : DpError.NonFiniteValue;
        if (error != DpError.None) return NoisyValue.Fail(DpMechanism.Laplace, noise, error);
        var b = sensitivity / epsilon;
        var index = noise.Draws;
        return new(value + noise.NextLaplace(b), DpMechanism.Laplace, b, noise.Seed, index, DpError.None);
    }

    // F(x) = ½·e^{x/b} for x < 0, 1 − ½·e^{−x/b} otherwise.
    public static double Cdf(double x, double scale) => x < 0 ? 0.5 * Math.Exp(x / scale) : 1 - 0.5 * Math.Exp(-x / scale);

    internal static DpError Check(double sensitivity, double epsilon)
    {
        if (!(sensitivity > 0) || !double.IsFinite(sensitivity)) return DpError.InvalidSensitivity;
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) return DpError.InvalidEpsilon;
        return DpError.None;
    }
}
