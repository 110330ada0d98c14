namespace StreamPersonalization.Core.Statistics.Sequential;

/// <summary>CUPED result: θ, the adjusted mean, the adjusted per-unit variance and the fraction of variance removed (ρ²).</summary>
public sealed record CupedResult(double Theta, double AdjustedMean, double AdjustedVariance, double VarianceReduction, SequentialError Error)
{
    /// <summary>True when the adjustment is usable.</summary>
    public bool Ok => Error == SequentialError.None;

    internal static CupedResult Fail(SequentialError e) => new(double.NaN, double.NaN, double.NaN, double.NaN, e);
}

/// <summary>
/// CUPED (Deng, Xu, Kohavi &amp; Walker 2013): Ŷ = Ȳ − θ(X̄ − μ_X) with θ = cov(Y, X)/var(X), var(Ŷ) = var(Y)(1 − ρ²).
/// Why: pre-exposure engagement explains part of the metric's variance; removing it shortens experiments without bias,
/// because X is measured before assignment. Use one θ and one μ_X (pooled over arms) for every arm of an experiment.
/// </summary>
public static class Cuped
{
    /// <summary>From summary statistics of one arm (or the pooled sample): sample variances and covariance, and the covariate mean μ_X to centre on.</summary>
    public static CupedResult Adjust(double meanY, double varianceY, double meanX, double varianceX, double covarianceXY, double covariateMean)
    {
        if (!double.IsFinite(meanY) || !double.IsFinite(varianceY) || !double.IsFinite(meanX) || !double.IsFinite(varianceX)
            || !double.IsFinite(covarianceXY) || !double.IsFinite(covariateMean))
            return CupedResult.Fail(SequentialError.NonFinite);
        if (!(varianceX > 0) || varianceY < 0) return CupedResult.Fail(SequentialError.NonPositiveVariance);
        var theta = covarianceXY / varianceX;
        var adjustedVariance = Math.Max(0, varianceY - theta * covarianceXY);
        var reduction = varianceY > 0 ? covarianceXY * covarianceXY / (varianceX * varianceY) : 0;
        return new(theta, meanY - theta * (meanX - covariateMean), adjustedVariance, Math.Min(1, reduction), SequentialError.None);
    }

    /// <summary>From paired per-user samples (metric y, covariate x), centring on the sample's own covariate mean unless one is given.</summary>
    public static CupedResult Adjust(ReadOnlySpan<double> y, ReadOnlySpan<double> x, double? covariateMean = null)
    {
        if (y.Length != x.Length) return CupedResult.Fail(SequentialError.LengthMismatch);
        if (y.Length < 2) return CupedResult.Fail(SequentialError.TooFewObservations);
        double my = 0, mx = 0, syy = 0, sxx = 0, sxy = 0;
        for (var i = 0; i < y.Length; i++)
        {
            // Welford co-moment update: numerically stable single pass.
            var n = i + 1;
            var dx = x[i] - mx;
            mx += dx / n;
            var dy = y[i] - my;
            my += dy / n;
            sxx += dx * (x[i] - mx);
            syy += dy * (y[i] - my);
            sxy += dx * (y[i] - my);
        }
        var d = y.Length - 1.0;
        return Adjust(my, syy / d, mx, sxx / d, sxy / d, covariateMean ?? mx);
    }
}
