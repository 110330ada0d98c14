using System.Text;
using System.Text.Json;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class CohortReleaseJsonTests
{
    private static readonly CohortPeriod Period = new(20779, 1);

    [Fact]
    public void FromLedger_EqualsTheAccountantThatMadeTheCharges_AndKeepsSpendingAfterABudgetCut()
    {
        // The same charges applied live (TryCharge) and replayed from their ledger entries give byte-identical state.
        var live = new PrivacyAccountant(new PrivacyBudget(3, 1e-5));
        var ledger = new List<PrivacyLedgerEntry>();
        string[] cohorts = ["a", "b", "c"];
        foreach (var (period, eps, delta) in new[] { ("d1", 1.0, 1e-6), ("d2", 0.1, 0.0), ("d1", 0.7, 2e-6), ("d2", 0.2, 0.0) })
        {
            var r = live.TryCharge("w1", cohorts, new PrivacyBudget(eps, delta));
            Assert.True(r.Approved);
            ledger.AddRange(PrivacyLedgerEntry.For(r, period, cohorts));
        }
        Assert.Equal(live.ToBytes(), PrivacyAccountant.FromLedger(live.Budget, ledger).ToBytes());
        Assert.Equal(new PrivacyBudget(2.0, 3e-6).Epsilon, live.MaxSpent("w1", cohorts).Epsilon, 12);

        var cut = PrivacyAccountant.FromLedger(new PrivacyBudget(1.5, 1e-5), ledger);   // spent 2.0 > new budget 1.5: still recorded
        Assert.Equal(2.0, cut.Spent("w1", "b").Epsilon, 12);
        Assert.Equal(RefusalReason.EpsilonBudgetExceeded, cut.TryCharge("w1", ["b"], new PrivacyBudget(0.01, 0)).Refusal);
        Assert.Throws<ArgumentException>(() => PrivacyLedgerEntry.For(cut.TryCharge("w1", ["b"], new PrivacyBudget(0.01, 0)), "d3", ["b"]));
    }

    [Fact]
    public void MetricRecords_OnePerReleasedCohort_CarryingTheDocumentsValuesAndKeys()
    {
        var options = new CohortReleaseOptions { MinimumCohortSize = 50 };
        var agg = new CohortAggregator(options);
        CohortKey big = new(1, 0, 1), other = new(2, 1, 0);
        var totals = agg.Aggregate(CohortAggregatorTests.Users("x", 400, big, 120, converted: true).Concat(CohortAggregatorTests.Users("y", 300, other, 0)));
        var result = agg.Release(totals, Period.Id, 7, new PrivacyAccountant(options.PeriodBudget));
        Assert.True(result.Released);
        var document = CohortReleaseJson.Document(Period, result, options, PrivacyBudget.Zero);

        var records = CohortReleaseJson.MetricRecords(document);
        Assert.Equal(result.Cohorts.Select(c => $"2026-11-22/P1D/{c.Cohort}"), records.Select(r => r.Key));
        Assert.Equal(new[] { agg.Bands.Name(big), agg.Bands.Name(other) }.Order(StringComparer.Ordinal), result.Cohorts.Select(c => c.Cohort).Order(StringComparer.Ordinal));
        foreach (var (record, metrics) in records.Zip(result.Cohorts))
        {
            var json = JsonDocument.Parse(record.Value).RootElement;
            Assert.Equal(CohortReleaseJson.Schema, json.GetProperty("schema").GetInt32());
            Assert.Equal(record.Key, json.GetProperty("recordId").GetString());
            Assert.Equal(metrics.Users, json.GetProperty("users").GetInt64());
            Assert.Equal(metrics.AverageSessionSeconds, json.GetProperty("averageSessionSeconds").GetDouble());
            Assert.Equal(metrics.ConversionRate, json.GetProperty("conversionRate").GetDouble());
            Assert.Equal(metrics.Revenue, json.GetProperty("revenue").GetDouble());
            Assert.Equal(metrics.RevenuePerUser, json.GetProperty("revenuePerUser").GetDouble());
            Assert.Equal("laplace", json.GetProperty("mechanism").GetString());
            Assert.Equal(1.0, json.GetProperty("epsilon").GetDouble());
            Assert.Equal("2026-11-22T00:00:00.000Z", json.GetProperty("periodStart").GetString());
        }
        Assert.Null(CohortReleaseJson.RefusalAlert(document));

        var doc = JsonDocument.Parse(document).RootElement;
        Assert.Equal("released", doc.GetProperty("status").GetString());
        Assert.Equal(agg.Bands.Count - result.Cohorts.Count, doc.GetProperty("cohortsSuppressed").GetInt32());
        Assert.Equal(1.0, doc.GetProperty("budget").GetProperty("epsilonSpentAfter").GetDouble());
        Assert.Equal(4.0, doc.GetProperty("noise")[0].GetProperty("scale").GetDouble(), 12);   // users: Δ = 1, ε/4 = 0.25
        // Only noisy, public values: no user keys, no seed, and each cohort holds exactly the released (noisy) metrics.
        Assert.DoesNotContain("\"x-", document);
        Assert.DoesNotContain("seed", document, StringComparison.OrdinalIgnoreCase);
        foreach (var c in doc.GetProperty("cohorts").EnumerateArray())
            Assert.Equal(["averageSessionSeconds", "cohort", "conversionRate", "revenue", "revenuePerUser", "users"], c.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RefusalAlert_IsACriticalPrivacyBudgetAlertWithTheSpendAsEvidence_AndNoRecords()
    {
        var options = new CohortReleaseOptions { EpsilonPerRelease = 1.5, PeriodBudgetEpsilon = 2 };
        var agg = new CohortAggregator(options);
        var accountant = new PrivacyAccountant(options.PeriodBudget);
        var totals = agg.Aggregate([]);
        Assert.True(agg.Release(totals, "2026-11-21/P1D", 1, accountant, "window").Released);
        var spent = accountant.MaxSpent("window", agg.CohortNames);
        var refused = agg.Release(totals, Period.Id, 2, accountant, "window");
        Assert.False(refused.Released);
        var document = CohortReleaseJson.Document(Period, refused, options, spent);

        Assert.Empty(CohortReleaseJson.MetricRecords(document));
        var alert = CohortReleaseJson.RefusalAlert(document)!;
        Assert.Equal("privacy/privacy_budget/2026-11-22/P1D", alert.Key);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(Period.EndMs, alert.EventTimeMs);
        Assert.Contains("epsilon_budget_exceeded", alert.Message);
        Assert.Equal([1.5, 1.5, 2.0], alert.Evidence.Take(3).Select(e => e.Value));   // requested, spent, budget
        var doc = JsonDocument.Parse(document).RootElement;
        Assert.Equal("window", doc.GetProperty("budgetPeriod").GetString());
        Assert.Equal(0, doc.GetProperty("epsilonCharged").GetDouble());
        Assert.Equal(0, doc.GetProperty("cohorts").GetArrayLength());
        Assert.Contains("\"detector\":\"privacy_budget\"", Encoding.UTF8.GetString(AlertJson.ToUtf8(alert)));
    }
}
