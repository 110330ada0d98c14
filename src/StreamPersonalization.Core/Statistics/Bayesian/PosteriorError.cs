namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>Why a Bayesian computation returned no value; degenerate input is reported, never thrown.</summary>
public enum PosteriorError
{
    /// <summary>The result is valid.</summary>
    None = 0,
    /// <summary>A count was negative.</summary>
    NegativeCount,
    /// <summary>A mean, variance or parameter was NaN or infinite.</summary>
    NonFinite,
    /// <summary>A sample variance was negative.</summary>
    NegativeVariance,
    /// <summary>Too few observations for the requested quantity (a normal posterior needs n ≥ 2).</summary>
    TooFewObservations,
    /// <summary>A credible level outside (0, 1).</summary>
    InvalidLevel,
    /// <summary>No arms, or a null arm.</summary>
    NoArms,
    /// <summary>Monte Carlo draws must be positive.</summary>
    InvalidDraws,
    /// <summary>Minimum exploration share negative, or too large for the number of arms.</summary>
    InvalidMinimumShare,
}

/// <summary>A value or the reason there is none.</summary>
public sealed record PosteriorResult<T>(T? Value, PosteriorError Error) where T : class
{
    /// <summary>True when <see cref="Value"/> is present.</summary>
    public bool Ok => Error == PosteriorError.None;

    internal static PosteriorResult<T> Fail(PosteriorError error) => new(null, error);
}

/// <summary>An equal-tailed credible interval: P(Lower ≤ θ ≤ Upper) = Level under the posterior.</summary>
public sealed record CredibleInterval(double Lower, double Upper, double Level, PosteriorError Error)
{
    internal static CredibleInterval Fail(double level, PosteriorError error) => new(double.NaN, double.NaN, level, error);
}
