namespace StreamPersonalization.Core.Statistics.Detectors;

/// <summary>Why a detector returned no verdict; degenerate input is reported, never thrown.</summary>
public enum DetectorError
{
    /// <summary>The result is valid.</summary>
    None = 0,
    /// <summary>Counts and shares differ in length, or fewer than two arms.</summary>
    ShapeMismatch,
    /// <summary>A count was negative.</summary>
    NegativeCount,
    /// <summary>No observations at all.</summary>
    NoObservations,
    /// <summary>An intended share was zero, negative or not finite.</summary>
    InvalidShare,
    /// <summary>α outside (0, 1).</summary>
    InvalidAlpha,
}
