using StreamPersonalization.Core.Experiments.Definitions;
namespace StreamPersonalization.Core.Experiments.State;

/// <summary>An estimate with an interval; <see cref="Error"/> names why it is missing (values are then NaN).</summary>
public sealed record Estimate(double Value, double Lower, double Upper, string? Error = null)
{
    /// <summary>A missing estimate with its reason.</summary>
    public static Estimate Missing(string error) => new(double.NaN, double.NaN, double.NaN, error);
}

/// <summary>
/// One arm: counts, the metric's mean and variance, rate with Wilson interval (binary), posterior mean and credible
/// interval, P(best), expected loss and (bandits) allocation. Error codes explain missing numbers.
/// </summary>
public sealed record ArmSnapshot(
    string VariantId,
    long Users,
    long Conversions,
    Estimate ConversionRate,
    double Mean,
    double Variance,
    string Posterior,
    Estimate PosteriorMean,
    double ProbabilityBest,
    double ExpectedLoss,
    double? Allocation,
    IReadOnlyList<string> Errors);

/// <summary>
/// One treatment vs the control. <see cref="Difference"/> is treatment − control with the Newcombe interval (binary)
/// or a normal interval (continuous); p-values raw, Holm- and BH-adjusted across treatment arms, CUPED-adjusted and
/// always-valid (mSPRT, one look per applied delta).
/// </summary>
public sealed record ComparisonSnapshot(
    string VariantId,
    string ControlVariantId,
    string Test,
    double Statistic,
    double PValue,
    Estimate Difference,
    double HolmPValue,
    double BhPValue,
    Estimate CupedDifference,
    double CupedPValue,
    double CupedVarianceReduction,
    double MsprtPValue,
    long MsprtLooks,
    IReadOnlyList<string> Errors)
{
    /// <summary>Binary metrics: the 2×2 test chosen by expected counts (Fisher exact below 5); null for continuous metrics.</summary>
    public CountTestSnapshot? CountTest { get; init; }
    /// <summary>Continuous metrics: Mann–Whitney U on the binned per-user values; null for binary metrics.</summary>
    public RankTestSnapshot? MannWhitney { get; init; }
}

/// <summary>Sample-ratio-mismatch check against the intended shares.</summary>
public sealed record SrmSnapshot(double Statistic, int DegreesOfFreedom, double PValue, bool Fired, string? Error);

/// <summary>
/// An alert raised at this snapshot: the detector code, severity and message, plus (once the detectors have run, see
/// <see cref="ExperimentState.EvaluateAlerts"/>) the subject (arm, arm:metric) and the state version it was raised at.
/// </summary>
public sealed record SnapshotAlert(string Code, string Severity, string Message, string? Subject = null, long? RaisedAtVersion = null);

/// <summary>
/// Everything the dashboard, the API and bandit assignment read about an experiment at one state version.
/// Deterministic in (state, shape, seed, options); the seed is recorded so Monte Carlo numbers can be reproduced.
/// </summary>
public sealed record ExperimentSnapshot(
    int Schema,
    string ExperimentId,
    long Version,
    ulong Seed,
    ExperimentKind Kind,
    MetricKind Metric,
    IReadOnlyList<ArmSnapshot> Arms,
    IReadOnlyList<ComparisonSnapshot> Tests,
    SrmSnapshot Srm,
    IReadOnlyList<SnapshotAlert> Alerts,
    IReadOnlyList<string> Errors)
{
    /// <summary>JSON schema version written as <c>schema</c>.</summary>
    public const int CurrentSchema = 1;

    /// <summary>Binary metrics: chi-square test of independence over all arms; null for continuous metrics.</summary>
    public ChiSquareSnapshot? ChiSquare { get; init; }
    /// <summary>Factorial experiments: main effects, interactions and Type III F-tests; null for other kinds.</summary>
    public FactorialSnapshot? Factorial { get; init; }
}
