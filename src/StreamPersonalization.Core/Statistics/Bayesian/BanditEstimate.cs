namespace StreamPersonalization.Core.Statistics.Bayesian;

/// <summary>
/// Per-arm Monte Carlo result (P(best), expected loss or allocation share), with the draws and the seed that
/// produced it so that any published figure can be reproduced exactly. Values is empty when Error is set.
/// </summary>
public sealed record BanditEstimate(IReadOnlyList<double> Values, int Draws, ulong Seed, PosteriorError Error)
{
    /// <summary>True when <see cref="Values"/> holds one entry per arm.</summary>
    public bool Ok => Error == PosteriorError.None;

    internal static BanditEstimate Fail(int draws, ulong seed, PosteriorError error) => new([], draws, seed, error);
}
