using StreamPersonalization.Core.Statistics;

namespace StreamPersonalization.Core.Privacy.Verification;

/// <summary>One-sample Kolmogorov–Smirnov verdict: D = sup|Fₙ − F|, its two-sided p-value and the sample size.</summary>
public sealed record KsResult(double Statistic, double PValue, int N, StatError Error)
{
    public bool IsValid => Error == StatError.None;

    public override string ToString() => IsValid ? $"KS(D={Statistic:G6}, p={PValue:G6}, n={N})" : $"KS(error={Error})";
}

/// <summary>
/// One-sample two-sided Kolmogorov–Smirnov test against a continuous CDF, used to check that released noise follows
/// its calibrated distribution. The p-value is exact for moderate n·D² (Marsaglia, Tsang &amp; Wang 2003,
/// "Evaluating Kolmogorov's distribution", J. Stat. Software 8(18)); in the far right tail it uses their
/// 1 − 2·exp(−(2.000071 + .331/√n + 1.409/n)·n·D²) approximation, where p &lt; ~1e-3 anyway; when n·D &gt; 150
/// (matrix order above 301, i.e. large n) it uses Kolmogorov's limit with Stephens' (1970) finite-n correction,
/// λ = (√n + 0.12 + 0.11/√n)·D, accurate to about 3 digits there.
/// (A general statistic: it lives here because only the privacy checks use it so far.)
/// </summary>
public static class KolmogorovSmirnov
{
    /// <summary>D = max over sorted xᵢ of max(i/n − F(xᵢ), F(xᵢ) − (i−1)/n), p = P(Dₙ ≥ D).</summary>
    public static KsResult OneSample(ReadOnlySpan<double> sample, Func<double, double> cdf)
    {
        if (sample.Length == 0) return new(double.NaN, double.NaN, 0, StatError.ZeroSampleSize);
        var sorted = sample.ToArray();
        foreach (var x in sorted) if (double.IsNaN(x)) return new(double.NaN, double.NaN, sorted.Length, StatError.InvalidInput);
        Array.Sort(sorted);
        var n = sorted.Length;
        double d = 0;
        for (var i = 0; i < n; i++)
        {
            var f = cdf(sorted[i]);
            if (!(f >= 0 && f <= 1)) return new(double.NaN, double.NaN, n, StatError.InvalidInput);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        return new(d, PValue(n, d), n, StatError.None);
    }

    /// <summary>Two-sided p-value P(Dₙ ≥ d) = 1 − K(n, d) for a continuous null distribution.</summary>
    public static double PValue(int n, double d)
    {
        if (n <= 0 || double.IsNaN(d)) return double.NaN;
        if (d <= 0) return 1;
        if (d >= 1) return 0;
        return Math.Clamp(1 - Cdf(n, d), 0, 1);
    }

    /// <summary>
    /// K(n, d) = P(Dₙ &lt; d) by Marsaglia–Tsang–Wang: with k = ⌊n·d⌋ + 1, m = 2k − 1, h = k − n·d, K = n!/nⁿ · (Hⁿ)ₖₖ
    /// for the m×m matrix H of their paper; powers are scaled by 10^±140 to stay in range.
    /// </summary>
    public static double Cdf(int n, double d)
    {
        var s = d * d * n;
        if (s > 7.24 || (s > 3.76 && n > 99)) return 1 - 2 * Math.Exp(-(2.000071 + .331 / Math.Sqrt(n) + 1.409 / n) * s);
        if (n * d > MaxExactND) return 1 - KolmogorovQ((Math.Sqrt(n) + 0.12 + 0.11 / Math.Sqrt(n)) * d);
        var k = (int)(n * d) + 1;
        var m = 2 * k - 1;
        var h = k - n * d;
        var hm = new double[m * m];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < m; j++)
                hm[i * m + j] = i - j + 1 < 0 ? 0 : 1;
        for (var i = 0; i < m; i++)
        {
            hm[i * m] -= Math.Pow(h, i + 1);
            hm[(m - 1) * m + i] -= Math.Pow(h, m - i);
        }
        hm[(m - 1) * m] += 2 * h - 1 > 0 ? Math.Pow(2 * h - 1, m) : 0;
        for (var i = 0; i < m; i++)
            for (var j = 0; j < m; j++)
                if (i - j + 1 > 0)
                    for (var g = 1; g <= i - j + 1; g++) hm[i * m + j] /= g;
        var (q, eq) = Power(hm, 0, m, n);
        var result = q[(k - 1) * m + k - 1];
        for (var i = 1; i <= n; i++)
        {
            result = result * i / n;
            if (result < 1e-140) { result *= 1e140; eq -= 140; }
        }
        return result * Math.Pow(10, eq);
    }

    // Above this n·D the exact matrix (order 2⌊nD⌋ + 1) costs more than a test should.
    private const double MaxExactND = 150;

    // Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}; for small λ the Jacobi form 1 − (√(2π)/λ) Σ e^{−(2j−1)²π²/(8λ²)} converges faster.
    internal static double KolmogorovQ(double lambda)
    {
        if (lambda <= 0) return 1;
        if (lambda < 1.18)
        {
            double sum = 0;
            for (var j = 1; j <= 20; j++) sum += Math.Exp(-(2 * j - 1) * (2 * j - 1) * Math.PI * Math.PI / (8 * lambda * lambda));
            return 1 - Math.Sqrt(2 * Math.PI) / lambda * sum;
        }
        double q = 0;
        for (var j = 1; j <= 100; j++)
        {
            var term = Math.Exp(-2.0 * j * j * lambda * lambda);
            q += (j % 2 == 1 ? 2 : -2) * term;
            if (term < 1e-17) break;
        }
        return q;
    }

    // Aⁿ by repeated squaring, tracking a decimal exponent so entries stay below 1e140.
    private static (double[] Matrix, int Exponent) Power(double[] a, int ea, int m, int n)
    {
        if (n == 1) return ((double[])a.Clone(), ea);
        var (v, ev) = Power(a, ea, m, n / 2);
        var b = Multiply(v, v, m);
        var eb = 2 * ev;
        if (n % 2 == 0) { v = b; ev = eb; }
        else { v = Multiply(a, b, m); ev = ea + eb; }
        if (v[m / 2 * m + m / 2] > 1e140)
        {
            for (var i = 0; i < v.Length; i++) v[i] *= 1e-140;
            ev += 140;
        }
        return (v, ev);
    }

    private static double[] Multiply(double[] a, double[] b, int m)
    {
        var c = new double[m * m];
        for (var i = 0; i < m; i++)
            for (var k = 0; k < m; k++)
            {
                var aik = a[i * m + k];
                if (aik == 0) continue;
                for (var j = 0; j < m; j++) c[i * m + j] += aik * b[k * m + j];
            }
        return c;
    }
}
