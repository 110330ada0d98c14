using System.Globalization;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Differentially private cohort metrics for one release period, in two steps:
/// <see cref="Aggregate"/> clips each user's contribution and sums per cohort (exact, raw);
/// <see cref="Release"/> charges the accountant, adds calibrated noise to every cohort's four sums, suppresses
/// small cohorts and derives the published metrics.
/// <para>
/// Neighbouring datasets differ by adding or removing one user (one contribution per user per period). After
/// clipping, that changes one cohort's user count by 1, its session-seconds sum by at most MaxSessionSeconds, its
/// conversions by 1 and its revenue by at most MaxRevenue: these are the sensitivities (L1 = L2 for one scalar).
/// Each statistic gets ε/4 (and δ/4), so by basic composition a release is (ε, δ)-DP for every cohort, and by
/// parallel composition for every user. Everything published is post-processing of the four noisy sums.
/// </para>
/// <para>
/// Suppression: a cohort is released iff its noisy user count is ≥ MinimumCohortSize. Deciding on the true count
/// would not be DP: with 99 vs 100 users the cohort would vanish or appear with certainty, revealing one user's
/// presence. Thresholding the noisy count (which is released anyway) is post-processing and costs no extra budget;
/// the price is that a cohort just below the minimum is occasionally released and one just above occasionally
/// suppressed. The candidate cohorts are the configured cross product, never derived from the data, and every
/// candidate gets its four draws in a fixed order whether suppressed or not, so the stream position of each draw
/// does not depend on the data either. Suppressed cohorts are counted in the audit but never appear in the output.
/// </para>
/// </summary>
public sealed class CohortAggregator
{
    /// <summary>Noisy statistics per cohort: users, session seconds, conversions, revenue.</summary>
    public const int Statistics = 4;

    private readonly double[] _scales;
    private readonly string[] _names;

    public CohortAggregator(CohortReleaseOptions options)
    {
        Options = options.Validate();
        Bands = new CohortBands(options.Bands);
        _names = Bands.All.Select(Bands.Name).ToArray();
        EpsilonPerStatistic = options.EpsilonPerRelease / Statistics;
        DeltaPerStatistic = options.Mechanism == DpMechanism.Gaussian ? options.DeltaPerRelease / Statistics : 0;
        double[] sensitivities = [1, options.MaxSessionSeconds, 1, options.MaxRevenue];
        _scales = sensitivities.Select(Scale).ToArray();
        string[] names = ["users", "session_seconds", "conversions", "revenue"];
        Noise = names.Select((n, i) => new StatisticNoise(n, sensitivities[i], _scales[i])).ToArray();
    }

    public CohortReleaseOptions Options { get; }

    public CohortBands Bands { get; }

    public double EpsilonPerStatistic { get; }

    public double DeltaPerStatistic { get; }

    /// <summary>Every candidate cohort's name (the accounting keys), in index order.</summary>
    public IReadOnlyList<string> CohortNames => _names;

    /// <summary>Sensitivity and noise scale (Laplace b or Gaussian σ) of each statistic.</summary>
    public IReadOnlyList<StatisticNoise> Noise { get; }

    /// <summary>
    /// Clips and sums contributions per cohort. A user's second and later contributions are ignored (counted in
    /// <see cref="CohortTotals.DuplicateContributions"/>); non-finite values count as 0.
    /// </summary>
    public CohortTotals Aggregate(IEnumerable<UserContribution> contributions)
    {
        var n = Bands.Count;
        var users = new long[n];
        var session = new double[n];
        var conversions = new long[n];
        var revenue = new double[n];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int duplicates = 0, invalid = 0;
        foreach (var c in contributions)
        {
            if (!seen.Add(c.UserKey)) { duplicates++; continue; }
            var i = Bands.IndexOf(c.Cohort);
            if ((uint)i >= (uint)n) throw new ArgumentException($"contribution names cohort {c.Cohort}, which these bands do not have", nameof(contributions));
            users[i]++;
            session[i] += Clip(c.SessionSeconds, Options.MaxSessionSeconds, ref invalid);
            if (c.Converted) conversions[i]++;
            revenue[i] += Clip(c.Revenue, Options.MaxRevenue, ref invalid);
        }
        return new CohortTotals(Bands, users, session, conversions, revenue, duplicates, invalid);
    }

    /// <summary>
    /// Releases <paramref name="totals"/> for <paramref name="period"/> if the accountant approves charging
    /// <see cref="CohortReleaseOptions.ChargePerRelease"/> to every cohort in <paramref name="budgetPeriod"/> (default: the
    /// period itself); otherwise returns a refused result with no cohorts and draws no noise. <paramref name="seed"/> must be
    /// secret (see <see cref="NoiseSource.DeriveSeed"/>).
    /// </summary>
    public CohortReleaseResult Release(CohortTotals totals, string period, ulong seed, PrivacyAccountant accountant, string? budgetPeriod = null)
    {
        if (!ReferenceEquals(totals.Bands, Bands)) throw new ArgumentException("totals were aggregated with other cohort bands", nameof(totals));
        var names = _names;
        var charge = accountant.TryCharge(budgetPeriod ?? period, names, Options.ChargePerRelease);
        if (!charge.Approved) return new(false, [], Audit(period, charge, 0, 0), seed, 0);

        var noise = new NoiseSource(seed);
        var released = new List<CohortMetrics>();
        var suppressed = 0;
        for (var i = 0; i < Bands.Count; i++)
        {
            var users = totals.Users[i] + Draw(noise, 0);
            var session = totals.SessionSeconds[i] + Draw(noise, 1);
            var conversions = totals.Conversions[i] + Draw(noise, 2);
            var revenue = totals.Revenue[i] + Draw(noise, 3);
            if (users < Options.MinimumCohortSize) { suppressed++; continue; }
            released.Add(new CohortMetrics(
                names[i],
                (long)Math.Round(users),
                Math.Round(Math.Clamp(session / users, 0, Options.MaxSessionSeconds), 1),
                Math.Round(Math.Clamp(conversions / users, 0, 1), 4),
                Math.Round(Math.Max(revenue, 0), 2),
                Math.Round(Math.Clamp(revenue / users, 0, Options.MaxRevenue), 2)));
        }
        return new(true, released, Audit(period, charge, released.Count, suppressed), seed, noise.Draws);
    }

    private double Draw(NoiseSource noise, int statistic) =>
        Options.Mechanism == DpMechanism.Gaussian ? noise.NextGaussian(_scales[statistic]) : noise.NextLaplace(_scales[statistic]);

    private double Scale(double sensitivity)
    {
        if (Options.Mechanism == DpMechanism.Laplace) return LaplaceMechanism.Scale(sensitivity, EpsilonPerStatistic);
        var sigma = GaussianMechanism.Sigma(sensitivity, EpsilonPerStatistic, DeltaPerStatistic, Options.GaussianCalibration);
        if (!sigma.Ok) throw new ArgumentException($"Gaussian noise cannot be calibrated: {sigma.Error}", nameof(Options));
        return sigma.Sigma;
    }

    private static double Clip(double value, double max, ref int invalid)
    {
        if (!double.IsFinite(value)) { invalid++; return 0; }
        return Math.Clamp(value, 0, max);
    }

    private CohortReleaseAudit Audit(string period, ChargeResult charge, int released, int suppressed) => new(
        period,
        charge.Period,
        charge.Approved,
        charge.Refusal,
        charge.Detail,
        Options.Mechanism,
        Options.Mechanism == DpMechanism.Gaussian ? Options.GaussianCalibration : null,
        charge.Approved ? charge.Charge : PrivacyBudget.Zero,
        charge.Approved ? charge.Cohorts : 0,
        EpsilonPerStatistic,
        DeltaPerStatistic,
        Noise,
        Options.MaxSessionSeconds,
        Options.MaxRevenue,
        Options.MinimumCohortSize,
        string.Create(CultureInfo.InvariantCulture, $"released iff noisy users >= {Options.MinimumCohortSize}"),
        Bands.Options.ToString(),
        released,
        suppressed);

    public override string ToString() => $"CohortAggregator({Options.Mechanism}, ε/release={Options.EpsilonPerRelease}, {Bands.Count} cohorts)";
}
