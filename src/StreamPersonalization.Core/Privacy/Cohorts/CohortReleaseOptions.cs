using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Private cohort metrics (configuration section <c>Privacy:Cohorts</c>). Each release charges
/// <see cref="EpsilonPerRelease"/> (and <see cref="DeltaPerRelease"/> for Gaussian) to every cohort, split equally
/// over its four noisy statistics: user count, sum of session seconds, conversions, revenue. The release job's schedule
/// (<see cref="Period"/>, <see cref="ReleaseDelay"/>, <see cref="BudgetPeriods"/>) is configured here too.
/// </summary>
public sealed record CohortReleaseOptions
{
    /// <value>Laplace (default, pure ε-DP) or Gaussian ((ε, δ)-DP).</value>
    public DpMechanism Mechanism { get; init; } = DpMechanism.Laplace;

    /// <value>Analytic (default, Balle &amp; Wang 2018) or Classic (needs ε/4 &lt; 1). Gaussian only.</value>
    public GaussianCalibration GaussianCalibration { get; init; } = GaussianCalibration.Analytic;

    /// <value>ε charged to each cohort per release. Default 1.0. Allowed (0, PeriodBudgetEpsilon].</value>
    public double EpsilonPerRelease { get; init; } = 1.0;

    /// <value>δ charged to each cohort per Gaussian release (Laplace charges 0). Default 1e-6. Allowed (0, PeriodBudgetDelta], at most 1e-3.</value>
    public double DeltaPerRelease { get; init; } = 1e-6;

    /// <value>ε each cohort may spend per budget window of BudgetPeriods periods (the accountant's budget). Default 2.0. Allowed (0, 100].</value>
    public double PeriodBudgetEpsilon { get; init; } = 2.0;

    /// <value>δ each cohort may spend per budget window of BudgetPeriods periods. Default 1e-5. Allowed [0, 1e-3].</value>
    public double PeriodBudgetDelta { get; init; } = 1e-5;

    /// <value>A cohort is released only if its noisy user count is at least this. Default 100. Allowed 1..1,000,000.</value>
    public int MinimumCohortSize { get; init; } = 100;

    /// <value>Clip for a user's average session length in the period, in seconds. Default 3600. Allowed (0, 86400].</value>
    public double MaxSessionSeconds { get; init; } = 3600;

    /// <value>Clip for a user's revenue in the period. Default 1000. Allowed (0, 1e9].</value>
    public double MaxRevenue { get; init; } = 1000;

    /// <value>How users are put into cohorts.</value>
    public CohortBandOptions Bands { get; init; } = new();

    /// <value>Whether this node runs the periodic release job (several nodes may: one release per period happens cluster-wide). Default true.</value>
    public bool Enabled { get; init; } = true;

    /// <value>Length of a release period, in whole UTC days (engagement is kept per UTC day), aligned to 1970-01-01. Default 1 day. Allowed 1..28 days.</value>
    public TimeSpan Period { get; init; } = TimeSpan.FromDays(1);

    /// <value>
    /// Event time that must pass after a period's end before it is released, so late events have landed and the sessions that
    /// started in it have closed (a session closes at most Sessions:MaxLength + Sessions:Grace after its start: 4 h 5 min by default).
    /// Default 06:00:00. Allowed 0..7 days.
    /// </value>
    public TimeSpan ReleaseDelay { get; init; } = TimeSpan.FromHours(6);

    /// <value>
    /// Consecutive periods that share one budget window: each cohort may spend PeriodBudgetEpsilon (and PeriodBudgetDelta) per
    /// window. 1 (default) gives every period its own budget, which protects a user per period; 7 with daily periods bounds what
    /// a user who is active every day loses over each week, and refuses releases once the week's budget is spent. Allowed 1..366.
    /// </value>
    public int BudgetPeriods { get; init; } = 1;

    /// <value>How often the release job looks for a due period and for releases not yet published. Default 00:01:00. Allowed 1 s..1 h.</value>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><see cref="Period"/> in days.</summary>
    public int PeriodDays => (int)Period.TotalDays;

    /// <summary>The accountant budget these options describe.</summary>
    public PrivacyBudget PeriodBudget => new(PeriodBudgetEpsilon, PeriodBudgetDelta);

    /// <summary>What one release charges each cohort: (ε, δ) for Gaussian, (ε, 0) for Laplace.</summary>
    public PrivacyBudget ChargePerRelease => new(EpsilonPerRelease, Mechanism == DpMechanism.Gaussian ? DeltaPerRelease : 0);

    /// <summary>Throws <see cref="ArgumentException"/> naming the configuration key and what is allowed.</summary>
    public CohortReleaseOptions Validate()
    {
        if (!Enum.IsDefined(Mechanism)) Fail("Privacy:Cohorts:Mechanism", Mechanism, "Laplace, Gaussian");
        if (!Enum.IsDefined(GaussianCalibration)) Fail("Privacy:Cohorts:GaussianCalibration", GaussianCalibration, "Analytic, Classic");
        if (!(PeriodBudgetEpsilon > 0 && PeriodBudgetEpsilon <= 100)) Fail("Privacy:Cohorts:PeriodBudgetEpsilon", PeriodBudgetEpsilon, "(0, 100]");
        if (!(PeriodBudgetDelta >= 0 && PeriodBudgetDelta <= 1e-3)) Fail("Privacy:Cohorts:PeriodBudgetDelta", PeriodBudgetDelta, "[0, 0.001]");
        if (!(EpsilonPerRelease > 0 && EpsilonPerRelease <= PeriodBudgetEpsilon))
            Fail("Privacy:Cohorts:EpsilonPerRelease", EpsilonPerRelease, $"(0, Privacy:Cohorts:PeriodBudgetEpsilon = {PeriodBudgetEpsilon}]");
        if (Mechanism == DpMechanism.Gaussian)
        {
            if (!(DeltaPerRelease > 0 && DeltaPerRelease <= 1e-3 && DeltaPerRelease <= PeriodBudgetDelta))
                Fail("Privacy:Cohorts:DeltaPerRelease", DeltaPerRelease, $"(0, min(0.001, Privacy:Cohorts:PeriodBudgetDelta = {PeriodBudgetDelta})] for Gaussian");
            if (GaussianCalibration == GaussianCalibration.Classic && EpsilonPerRelease / CohortAggregator.Statistics >= 1)
                Fail("Privacy:Cohorts:EpsilonPerRelease", EpsilonPerRelease, $"below {CohortAggregator.Statistics} with the Classic Gaussian calibration (ε per statistic must be < 1)");
        }
        if (MinimumCohortSize is < 1 or > 1_000_000) Fail("Privacy:Cohorts:MinimumCohortSize", MinimumCohortSize, "1..1000000");
        if (!(MaxSessionSeconds > 0 && MaxSessionSeconds <= 86400)) Fail("Privacy:Cohorts:MaxSessionSeconds", MaxSessionSeconds, "(0, 86400]");
        if (!(MaxRevenue > 0 && MaxRevenue <= 1e9)) Fail("Privacy:Cohorts:MaxRevenue", MaxRevenue, "(0, 1e9]");
        if (Period.Ticks % TimeSpan.TicksPerDay != 0 || Period < TimeSpan.FromDays(1) || Period > TimeSpan.FromDays(28))
            Fail("Privacy:Cohorts:Period", Period, "whole days from 1.00:00:00 to 28.00:00:00 (engagement is kept per UTC day)");
        if (ReleaseDelay < TimeSpan.Zero || ReleaseDelay > TimeSpan.FromDays(7)) Fail("Privacy:Cohorts:ReleaseDelay", ReleaseDelay, "00:00:00..7.00:00:00");
        if (BudgetPeriods is < 1 or > 366) Fail("Privacy:Cohorts:BudgetPeriods", BudgetPeriods, "1..366");
        if (CheckInterval < TimeSpan.FromSeconds(1) || CheckInterval > TimeSpan.FromHours(1)) Fail("Privacy:Cohorts:CheckInterval", CheckInterval, "00:00:01..01:00:00");
        if (Bands is null) throw new ArgumentException("Configuration key 'Privacy:Cohorts:Bands' is missing.", "Privacy:Cohorts:Bands");
        Bands.Validate();
        return this;
    }

    private static void Fail(string key, object value, string allowed) =>
        throw new ArgumentOutOfRangeException(key, value, $"Configuration key '{key}' is {value}; allowed: {allowed}.");
}
