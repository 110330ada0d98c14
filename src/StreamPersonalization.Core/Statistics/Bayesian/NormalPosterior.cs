using MathNet.Numerics.Distributions;

namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>
/// Posterior of a continuous mean under a flat prior and the normal approximation: μ ~ N(x̄, s²/n).
/// Why: per-user revenue or watch time is not Bernoulli, but its mean is close to normal at experiment sizes (CLT).
/// </summary>
public sealed record NormalPosterior(double Mean, double Variance)
{
    /// <summary>From n, sample mean and sample variance s²; the posterior variance is s² / n. Needs n ≥ 2.</summary>
    public static PosteriorResult<NormalPosterior> FromSample(long n, double mean, double sampleVariance)
    {
        if (n < 0) return PosteriorResult<NormalPosterior>.Fail(PosteriorError.NegativeCount);
        if (n < 2) return PosteriorResult<NormalPosterior>.Fail(PosteriorError.TooFewObservations);
        if (!double.IsFinite(mean) || !double.IsFinite(sampleVariance)) return PosteriorResult<NormalPosterior>.Fail(PosteriorError.NonFinite);
        if (sampleVariance < 0) return PosteriorResult<NormalPosterior>.Fail(PosteriorError.NegativeVariance);
        return new(new NormalPosterior(mean, sampleVariance / n), PosteriorError.None);
    }

    /// <summary>Posterior standard deviation √(s²/n).</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>Equal-tailed interval x̄ ± z_{(1+level)/2} · √(s²/n).</summary>
    public CredibleInterval Interval(double level = 0.95)
    {
        if (!(level > 0 && level < 1)) return CredibleInterval.Fail(level, PosteriorError.InvalidLevel);
        if (!double.IsFinite(Mean) || !double.IsFinite(Variance)) return CredibleInterval.Fail(level, PosteriorError.NonFinite);
        if (Variance < 0) return CredibleInterval.Fail(level, PosteriorError.NegativeVariance);
        var half = Normal.InvCDF(0, 1, (1 + level) / 2) * StandardDeviation;
        return new(Mean - half, Mean + half, level, PosteriorError.None);
    }

    /// <summary>One draw of the mean: x̄ + √(s²/n) · z.</summary>
    public double Sample(ref Xoshiro256StarStar rng) => Mean + StandardDeviation * rng.NextNormal();
}
