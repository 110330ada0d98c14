namespace StreamPersonalization.Core.Statistics;

/// <summary>
/// Why a statistical result could not be computed. Results carry this code instead of throwing or
/// silently returning NaN, so that a snapshot of a young or degenerate experiment (no users yet, every
/// value identical) is still publishable and the consumer can say why a number is missing.
/// </summary>
public enum StatError
{
    /// <summary>The result is valid.</summary>
    None = 0,

    /// <summary>A group, row, column or the whole sample has too few observations for the statistic.</summary>
    ZeroSampleSize,

    /// <summary>The data have no variability (all successes, all failures, all ties, zero variances).</summary>
    ZeroVariance,

    /// <summary>An argument is out of range: negative counts, successes above trials, NaN, p outside [0, 1].</summary>
    InvalidInput,
}
