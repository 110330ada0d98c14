using MathNet.Numerics;

namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Standard normal tail helpers shared by the z-based tests; erfc keeps precision far into the tails.</summary>
internal static class StandardNormal
{
    // Two-sided p = 2·Φ(−|z|) = erfc(|z|/√2).
    public static double TwoSidedP(double z) => SpecialFunctions.Erfc(Math.Abs(z) / Constants.Sqrt2);

    // Upper tail Φ(−z) = erfc(z/√2)/2.
    public static double UpperTail(double z) => 0.5 * SpecialFunctions.Erfc(z / Constants.Sqrt2);

    // Two-sided critical value z = Φ⁻¹(1 − (1 − confidence)/2).
    public static double Critical(double confidence) => MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, 1 - (1 - confidence) / 2);
}
