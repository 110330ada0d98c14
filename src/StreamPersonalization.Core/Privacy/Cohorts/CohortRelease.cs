using System.Globalization;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Exact clipped per-cohort sums for one period, indexed like <see cref="CohortBands.All"/>. Raw data: never
/// publish or log these; only <see cref="CohortAggregator.Release"/> output may leave the process.
/// </summary>
public sealed class CohortTotals
{
    internal CohortTotals(CohortBands bands, long[] users, double[] sessionSeconds, long[] conversions, double[] revenue, int duplicates, int invalidValues)
    {
        Bands = bands; Users = users; SessionSeconds = sessionSeconds; Conversions = conversions; Revenue = revenue;
        DuplicateContributions = duplicates; InvalidValues = invalidValues;
    }

    public CohortBands Bands { get; }
    public IReadOnlyList<long> Users { get; }
    public IReadOnlyList<double> SessionSeconds { get; }
    public IReadOnlyList<long> Conversions { get; }
    public IReadOnlyList<double> Revenue { get; }

    /// <summary>Contributions ignored because their user had already contributed (only the first counts).</summary>
    public int DuplicateContributions { get; }

    /// <summary>NaN or infinite session or revenue values, counted as 0.</summary>
    public int InvalidValues { get; }

    public override string ToString() => $"CohortTotals({Bands.Count} cohorts, {Users.Sum()} users; raw, not for release)";
}

/// <summary>Released metrics of one cohort (all derived from noisy sums; safe to publish).</summary>
public sealed record CohortMetrics(string Cohort, long Users, double AverageSessionSeconds, double ConversionRate, double Revenue, double RevenuePerUser)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Cohort}: users≈{Users}, avg session {AverageSessionSeconds:F1}s, conversion {ConversionRate:P2}, revenue {Revenue:F2} ({RevenuePerUser:F2}/user)");
}

/// <summary>Noise scale of one statistic: Laplace b or Gaussian σ, for sensitivity Δ after clipping.</summary>
public sealed record StatisticNoise(string Statistic, double Sensitivity, double Scale)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Statistic}(Δ={Sensitivity:G6}, scale={Scale:G6})");
}

/// <summary>
/// Audit entry for one release attempt: what was released or refused, with which mechanism and parameters, and the
/// privacy spent. Holds no user ids, no exact counts and no seed (which would reveal the noise), so it may be
/// stored and shown to auditors; <see cref="CohortsReleased"/> and <see cref="CohortsSuppressed"/> are derived from
/// noisy counts. <see cref="BudgetPeriod"/> is the accountant key charged (the period itself unless periods share a budget window).
/// </summary>
public sealed record CohortReleaseAudit(
    string Period,
    string BudgetPeriod,
    bool Released,
    RefusalReason Refusal,
    string? RefusalDetail,
    DpMechanism Mechanism,
    GaussianCalibration? Calibration,
    PrivacyBudget ChargedPerCohort,
    int CohortsCharged,
    double EpsilonPerStatistic,
    double DeltaPerStatistic,
    IReadOnlyList<StatisticNoise> Noise,
    double MaxSessionSeconds,
    double MaxRevenue,
    int MinimumCohortSize,
    string SuppressionRule,
    string Bands,
    int CohortsReleased,
    int CohortsSuppressed)
{
    public override string ToString() => Released
        ? string.Create(CultureInfo.InvariantCulture,
            $"Release {Period}: {Mechanism}{(Calibration is { } c ? $"/{c}" : "")} charged {ChargedPerCohort} to {CohortsCharged} cohorts (per statistic ε={EpsilonPerStatistic:G4}, δ={DeltaPerStatistic:G3}; {string.Join(", ", Noise)}), clip session≤{MaxSessionSeconds}s revenue≤{MaxRevenue}, {SuppressionRule}: {CohortsReleased} released, {CohortsSuppressed} suppressed")
        : $"Release {Period} refused ({Refusal}): {RefusalDetail}";
}

/// <summary>
/// Outcome of <see cref="CohortAggregator.Release"/>. <see cref="Seed"/> and <see cref="Draws"/> reproduce the noise
/// exactly: keep them as secret as the raw data and never publish them next to the values.
/// </summary>
public sealed record CohortReleaseResult(bool Released, IReadOnlyList<CohortMetrics> Cohorts, CohortReleaseAudit Audit, ulong Seed, long Draws)
{
    public override string ToString() => Released ? $"{Audit} [{string.Join("; ", Cohorts)}]" : Audit.ToString();
}
