namespace StreamPersonalization.Core.Experiments.State;

/// <summary>Knobs of <see cref="SnapshotCalculator"/>; defaults match the design (95% intervals, SRM α = 0.0005).</summary>
public sealed record SnapshotOptions
{
    /// <summary>Level of Wilson, Newcombe and credible intervals.</summary>
    public double Confidence { get; init; } = 0.95;
    /// <summary>Monte Carlo draws for P(best), expected loss and Thompson allocation; SE of P(best) ≤ 0.5/√draws.</summary>
    public int MonteCarloDraws { get; init; } = 20_000;
    /// <summary>SRM alarm level; strict because the check runs at every snapshot.</summary>
    public double SrmAlpha { get; init; } = 0.0005;
    /// <summary>Exploration floor of bandit allocation per arm.</summary>
    public double BanditMinimumShare { get; init; } = 0.01;
    /// <summary>The default options.</summary>
    public static SnapshotOptions Default { get; } = new();
}
