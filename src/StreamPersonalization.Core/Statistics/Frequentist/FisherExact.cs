using MathNet.Numerics;

namespace StreamPersonalization.Core.Statistics.Frequentist;

/// <summary>Result of Fisher's exact test: the two-sided p-value.</summary>
public readonly record struct FisherExactResult(double PValue, StatError Error)
{
    public bool IsValid => Error == StatError.None;
}

/// <summary>
/// Fisher's exact test on a 2×2 table, for arms with counts too small for the z or chi-square approximation.
/// Two-sided in R's sense (fisher.test): the sum of the probabilities of all tables no more likely than the
/// observed one, with R's relative tolerance 1 + 1e-7 so that tables tied with the observed one in exact
/// arithmetic are not lost to rounding.
/// </summary>
public static class FisherExact
{
    private const double RelativeTolerance = 1 + 1e-7;

    // Table [[a, b], [c, d]]; a ~ Hypergeometric(N, K = a + c, n = a + b); p = Σ P(k) over P(k) ≤ P(a)·(1 + 1e-7).
    public static FisherExactResult TwoSided(long a, long b, long c, long d)
    {
        if (a < 0 || b < 0 || c < 0 || d < 0)
            return new(double.NaN, StatError.InvalidInput);
        long total = a + b + c + d;
        if (total == 0)
            return new(double.NaN, StatError.ZeroSampleSize);

        long row1 = a + b, col1 = a + c, row2 = c + d;
        long lo = Math.Max(0, col1 - row2), hi = Math.Min(row1, col1);
        var logP = new double[hi - lo + 1];
        double max = double.NegativeInfinity;
        for (long k = lo; k <= hi; k++)
        {
            double l = LogChoose(row1, k) + LogChoose(row2, col1 - k);
            logP[k - lo] = l;
            max = Math.Max(max, l);
        }
        // Work relative to the mode, as R's dnhyper does, so neither huge tables nor the log constant lose digits.
        double sum = 0;
        for (int i = 0; i < logP.Length; i++) sum += Math.Exp(logP[i] - max);
        double observed = Math.Exp(logP[a - lo] - max);
        double p = 0;
        for (int i = 0; i < logP.Length; i++)
        {
            double w = Math.Exp(logP[i] - max);
            if (w <= observed * RelativeTolerance) p += w;
        }
        return new(Math.Min(1.0, p / sum), StatError.None);
    }

    // ln C(n, k) = ln n! − ln k! − ln (n − k)!.
    private static double LogChoose(long n, long k) => LogFactorial(n) - LogFactorial(k) - LogFactorial(n - k);

    // ln n! from the exact factorial table while it fits (n ≤ 170), else ln Γ(n + 1); counts may exceed int.
    private static double LogFactorial(long n) => n <= 170 ? SpecialFunctions.FactorialLn((int)n) : SpecialFunctions.GammaLn(n + 1.0);
}
