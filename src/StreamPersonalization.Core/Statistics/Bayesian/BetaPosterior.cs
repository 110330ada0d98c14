using MathNet.Numerics.Distributions;

namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>
/// Beta–Bernoulli posterior of a conversion rate: Beta(1 + successes, 1 + failures) from a uniform Beta(1, 1) prior.
/// The uniform prior is the usual default for bandits and keeps P(best) defined for an arm with no data.
/// </summary>
public sealed record BetaPosterior(double Alpha, double Beta)
{
    /// <summary>Prior pseudo-successes and pseudo-failures (Beta(1, 1) = uniform).</summary>
    public const double PriorAlpha = 1, PriorBeta = 1;

    /// <summary>The prior alone, for an arm with no observations.</summary>
    public static BetaPosterior Prior { get; } = new(PriorAlpha, PriorBeta);

    /// <summary>Conjugate update: α = 1 + s, β = 1 + f.</summary>
    public static PosteriorResult<BetaPosterior> FromCounts(long successes, long failures)
    {
        if (successes < 0 || failures < 0) return PosteriorResult<BetaPosterior>.Fail(PosteriorError.NegativeCount);
        return new(new BetaPosterior(PriorAlpha + successes, PriorBeta + failures), PosteriorError.None);
    }

    /// <summary>Posterior mean α / (α + β), i.e. (s + 1) / (n + 2) under the uniform prior (Laplace's rule of succession).</summary>
    public double Mean => Alpha / (Alpha + Beta);

    /// <summary>Posterior variance αβ / ((α + β)² (α + β + 1)).</summary>
    public double Variance
    {
        get { var n = Alpha + Beta; return Alpha * Beta / (n * n * (n + 1)); }
    }

    /// <summary>Equal-tailed interval from the Beta quantile function (MathNet <see cref="MathNet.Numerics.Distributions.Beta.InvCDF"/>).</summary>
    public CredibleInterval Interval(double level = 0.95)
    {
        if (!(level > 0 && level < 1)) return CredibleInterval.Fail(level, PosteriorError.InvalidLevel);
        if (!double.IsFinite(Alpha) || !double.IsFinite(Beta) || Alpha <= 0 || Beta <= 0)
            return CredibleInterval.Fail(level, PosteriorError.NonFinite);
        var tail = (1 - level) / 2;
        return new(MathNet.Numerics.Distributions.Beta.InvCDF(Alpha, Beta, tail),
                   MathNet.Numerics.Distributions.Beta.InvCDF(Alpha, Beta, 1 - tail), level, PosteriorError.None);
    }

    /// <summary>One draw of the rate from this posterior.</summary>
    public double Sample(ref Xoshiro256StarStar rng) => rng.NextBeta(Alpha, Beta);
}
