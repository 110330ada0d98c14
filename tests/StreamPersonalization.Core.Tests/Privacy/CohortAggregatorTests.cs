using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;
using StreamPersonalization.Core.Privacy.Verification;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class CohortAggregatorTests(ITestOutputHelper output)
{
    /// <summary>One cohort only ("other" device, no band edges): isolates the noise of one cohort's statistics.</summary>
    internal static readonly CohortBandOptions SingleCohort = new() { EngagementEdges = [], RecencyEdgesDays = [], DeviceTypes = [] };

    internal static PrivacyAccountant Unlimited() => new(new PrivacyBudget(1e9, 0.5));

    internal static IEnumerable<UserContribution> Users(string prefix, int count, CohortKey cohort, double revenue, double session = 600, bool converted = false) =>
        Enumerable.Range(0, count).Select(i => new UserContribution($"{prefix}-{i}", cohort, session, converted, revenue));

    [Fact]
    public void Aggregate_ClipsEachUser_IgnoresDuplicates_CountsInvalidValues()
    {
        var agg = new CohortAggregator(new CohortReleaseOptions { Bands = SingleCohort, MaxRevenue = 1000, MaxSessionSeconds = 3600 });
        var c = new CohortKey(0, 0, 0);
        var totals = agg.Aggregate(
        [
            new("u1", c, 100_000, true, 5000),      // both clipped to their maxima
            new("u2", c, -5, false, -3),            // negatives clip to 0
            new("u3", c, 600, true, double.NaN),    // NaN counts as 0 and is reported
            new("u1", c, 600, true, 200),           // second contribution of u1: ignored
        ]);
        Assert.Equal(3, totals.Users[0]);
        Assert.Equal(3600 + 0 + 600, totals.SessionSeconds[0]);
        Assert.Equal(2, totals.Conversions[0]);
        Assert.Equal(1000, totals.Revenue[0]);
        Assert.Equal(1, totals.DuplicateContributions);
        Assert.Equal(1, totals.InvalidValues);
    }

    [Fact]
    public void Release_SuppressedCohortsNeverAppear_DecisionUsesTheNoisyCount()
    {
        var agg = new CohortAggregator(new CohortReleaseOptions());   // 64 cohorts, Laplace, ε = 1 ⇒ count noise b = 4
        var bands = agg.Bands;
        CohortKey big = new(2, 0, 1), above = new(1, 1, 0), below = new(0, 2, 2), tiny = new(3, 3, 3);
        var totals = agg.Aggregate(Users("b", 500, big, 50).Concat(Users("a", 110, above, 50))
            .Concat(Users("l", 90, below, 50)).Concat(Users("t", 20, tiny, 50)));
        var acc = Unlimited();
        int belowReleased = 0, aboveSuppressed = 0;
        const int releases = 1000;
        for (var seed = 1UL; seed <= releases; seed++)
        {
            var r = agg.Release(totals, "2026-11-22", seed, acc);
            var names = r.Cohorts.Select(m => m.Cohort).ToHashSet();
            Assert.Equal(r.Cohorts.Count, names.Count);
            Assert.Equal(r.Cohorts.Count, r.Audit.CohortsReleased);
            Assert.Equal(bands.Count, r.Audit.CohortsReleased + r.Audit.CohortsSuppressed);
            Assert.All(r.Cohorts, m => Assert.True(m.Users >= 100, m.ToString()));
            // Empty and 20-user cohorts need noise ≥ 80 (b = 4): probability ½e^−20 ≈ 1e-9 per release.
            Assert.DoesNotContain(bands.Name(tiny), names);
            Assert.DoesNotContain(names, n => n != bands.Name(big) && n != bands.Name(above) && n != bands.Name(below));
            Assert.Contains(bands.Name(big), names);
            if (names.Contains(bands.Name(below))) belowReleased++;
            if (!names.Contains(bands.Name(above))) aboveSuppressed++;
        }
        // Noisy threshold: 90 users pass with P(Lap(4) ≥ 10) = ½e^−2.5 = 4.1 %, 110 users fail with the same probability.
        output.WriteLine($"{releases} releases: 90-user cohort released {belowReleased}×, 110-user cohort suppressed {aboveSuppressed}× (expected ≈ 41 each)");
        Assert.InRange(belowReleased, 20, 65);
        Assert.InRange(aboveSuppressed, 20, 65);
    }

    [Fact]
    public void Release_OverBudget_IsRefusedWithReason_NoCohortsNoNoise()
    {
        var agg = new CohortAggregator(new CohortReleaseOptions { Bands = SingleCohort, EpsilonPerRelease = 1, PeriodBudgetEpsilon = 2 });
        var acc = new PrivacyAccountant(agg.Options.PeriodBudget);
        var totals = agg.Aggregate(Users("u", 400, new CohortKey(0, 0, 0), 20));
        Assert.True(agg.Release(totals, "2026-11-22", 1, acc).Released);
        Assert.True(agg.Release(totals, "2026-11-22", 2, acc).Released);
        var third = agg.Release(totals, "2026-11-22", 3, acc);
        Assert.False(third.Released);
        Assert.Empty(third.Cohorts);
        Assert.Equal(0, third.Draws);
        Assert.Equal(RefusalReason.EpsilonBudgetExceeded, third.Audit.Refusal);
        Assert.Contains("refused", third.Audit.ToString());
        Assert.Equal(2.0, acc.Spent("2026-11-22", agg.Bands.Name(new CohortKey(0, 0, 0))).Epsilon, 12);
        Assert.True(agg.Release(totals, "2026-11-23", 4, acc).Released);   // the next period has its own budget
    }

    [Fact]
    public void Release_SameSeed_SameResult_AndTheAuditHoldsNoIdsNoSeed()
    {
        var agg = new CohortAggregator(new CohortReleaseOptions());
        var totals = agg.Aggregate(Users("user-secret", 300, new CohortKey(1, 1, 1), 80, converted: true));
        const ulong seed = 0xDEADBEEF12345UL;
        var a = agg.Release(totals, "2026-11-22", seed, Unlimited());
        var b = agg.Release(totals, "2026-11-22", seed, Unlimited());
        Assert.Equal(a.Cohorts, b.Cohorts);
        Assert.Equal(4L * agg.Bands.Count, a.Draws);
        var audit = a.Audit.ToString();
        output.WriteLine(audit);
        Assert.DoesNotContain("user-secret", audit + a);
        Assert.DoesNotContain(seed.ToString(), audit);
        Assert.Contains("Laplace", audit);
        Assert.Equal(new PrivacyBudget(1.0, 0), a.Audit.ChargedPerCohort);
        Assert.Equal(0.25, a.Audit.EpsilonPerStatistic);
        Assert.Equal(4000, a.Audit.Noise.Single(n => n.Statistic == "revenue").Scale, 9);   // Δ = 1000, ε/4 = 0.25
    }

    [Theory]
    [InlineData(DpMechanism.Laplace)]
    [InlineData(DpMechanism.Gaussian)]
    public void Release_RevenueNoise_FollowsTheCalibratedDistribution_KsAtOnePercent(DpMechanism mechanism)
    {
        // 300 users × 500 revenue ⇒ true clipped sum 150,000. Laplace: b = Δ/(ε/4) = 1000/0.25 = 4000.
        // Gaussian: σ = analytic σ(Δ = 1000, ε = 0.25, δ = 1e-6/4) = 16,593.9 (SciPy reference in NoiseMechanismTests).
        var agg = new CohortAggregator(new CohortReleaseOptions { Bands = SingleCohort, Mechanism = mechanism, DeltaPerRelease = 1e-6 });
        var totals = agg.Aggregate(Users("u", 300, new CohortKey(0, 0, 0), 500));
        var acc = Unlimited();
        var residuals = Enumerable.Range(1, 4000).Select(s => agg.Release(totals, "p", (ulong)s, acc).Cohorts.Single().Revenue - 150_000).ToArray();
        Func<double, double> cdf = mechanism == DpMechanism.Laplace
            ? x => LaplaceMechanism.Cdf(x, 4000)
            : x => GaussianMechanism.Cdf(x, GaussianMechanism.Sigma(1000, 0.25, 2.5e-7).Sigma);
        var fit = KolmogorovSmirnov.OneSample(residuals, cdf);
        output.WriteLine($"{mechanism} revenue noise over 4000 releases: {fit}");
        Assert.True(fit.PValue >= 0.01, fit.ToString());
    }

    [Fact]
    public void Options_Invalid_NameTheirKeys()
    {
        Assert.Contains("'Privacy:Cohorts:EpsilonPerRelease'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { EpsilonPerRelease = 3 }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:MinimumCohortSize'", Assert.ThrowsAny<ArgumentException>(() => new CohortReleaseOptions { MinimumCohortSize = 0 }.Validate()).Message);
        Assert.Contains("'Privacy:Cohorts:DeltaPerRelease'", Assert.ThrowsAny<ArgumentException>(() =>
            new CohortReleaseOptions { Mechanism = DpMechanism.Gaussian, DeltaPerRelease = 1e-4 }.Validate()).Message);
        Assert.Contains("Classic", Assert.ThrowsAny<ArgumentException>(() =>
            new CohortReleaseOptions { Mechanism = DpMechanism.Gaussian, GaussianCalibration = GaussianCalibration.Classic, EpsilonPerRelease = 4, PeriodBudgetEpsilon = 8 }.Validate()).Message);
    }
}
