namespace StreamPersonalization.Core.Tests.Statistics.Frequentist;

/// <summary>Relative-tolerance assertions, so reference values are compared to a stated number of significant digits.</summary>
internal static class Precision
{
    /// <summary>Asserts |actual − expected| ≤ 10^−digits · |expected| (absolute for expected = 0).</summary>
    public static void Digits(double expected, double actual, int digits)
    {
        double tolerance = Math.Pow(10, -digits) * Math.Max(Math.Abs(expected), double.Epsilon);
        Assert.True(Math.Abs(actual - expected) <= tolerance,
            $"expected {expected:R} to {digits} significant digits, got {actual:R}");
    }

    /// <summary>Asserts agreement with a value printed with a fixed number of decimals (half a unit in the last place).</summary>
    public static void Printed(double printed, double actual, int decimals)
    {
        double tolerance = 0.5 * Math.Pow(10, -decimals) + 1e-15;
        Assert.True(Math.Abs(actual - printed) <= tolerance, $"expected {printed} (to {decimals} decimals), got {actual:R}");
    }
}
