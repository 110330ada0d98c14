namespace StreamPersonalization.Core.Statistics.Sequential;

/// <summary>Why a sequential-test or variance-reduction computation returned no value; reported, never thrown.</summary>
public enum SequentialError
{
    /// <summary>The result is valid.</summary>
    None = 0,
    /// <summary>An input was NaN or infinite.</summary>
    NonFinite,
    /// <summary>A variance that must be positive was zero or negative.</summary>
    NonPositiveVariance,
    /// <summary>The mixing variance τ² must be positive.</summary>
    NonPositiveMixingVariance,
    /// <summary>α outside (0, 1).</summary>
    InvalidAlpha,
    /// <summary>Too few observations (sample variances need n ≥ 2).</summary>
    TooFewObservations,
    /// <summary>Two samples that must be paired have different lengths.</summary>
    LengthMismatch,
}
