using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Privacy.Accounting;
using StreamPersonalization.Core.Privacy.DifferentialPrivacy;

namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// JSON of cohort releases. The <b>document</b> is what is stored and served by <c>GET /v1/cohorts</c>: the audit record
/// (mechanism, calibration, ε/δ charged, budget and spend, noise scales, clip bounds, suppression rule, bands, released and
/// suppressed counts, refusal reason) plus the released cohorts. The Kafka records are derived from the stored document, so a
/// release re-published after a crash is byte-identical: one record per released cohort on <c>cohort-metrics</c>, or one
/// <see cref="Alert"/> (detector <see cref="BudgetDetector"/>) for a refused release. Nothing here holds ids, exact counts
/// or the seed.
/// </summary>
public static class CohortReleaseJson
{
    /// <summary>Value of <c>schema</c> in documents and records.</summary>
    public const int Schema = 1;

    /// <summary>Alert detector code of a refused release.</summary>
    public const string BudgetDetector = "privacy_budget";

    /// <summary>Alert scope of a refused release.</summary>
    public const string AlertScope = "privacy";

    /// <summary>
    /// The stored document of one release attempt. <paramref name="spentBefore"/> is the largest (ε, δ) any cohort had spent
    /// in the budget period before this attempt (public: it follows from configuration and earlier releases).
    /// </summary>
    public static string Document(CohortPeriod period, CohortReleaseResult result, CohortReleaseOptions options, PrivacyBudget spentBefore)
    {
        var a = result.Audit;
        var requested = options.ChargePerRelease;
        var spentAfter = result.Released ? spentBefore + a.ChargedPerCohort : spentBefore;
        var doc = new JsonObject
        {
            ["schema"] = Schema,
            ["period"] = period.Id,
            ["periodStart"] = AlertNames.Time(period.StartMs),
            ["periodEnd"] = AlertNames.Time(period.EndMs),
            ["budgetPeriod"] = a.BudgetPeriod,
            ["status"] = result.Released ? "released" : "refused",
            ["refusal"] = result.Released ? null : new JsonObject { ["reason"] = Snake(a.Refusal.ToString()), ["detail"] = a.RefusalDetail },
            ["mechanism"] = a.Mechanism.ToString().ToLowerInvariant(),
            ["calibration"] = a.Calibration?.ToString().ToLowerInvariant(),
            ["epsilonRequested"] = requested.Epsilon,
            ["deltaRequested"] = requested.Delta,
            ["epsilonCharged"] = a.ChargedPerCohort.Epsilon,
            ["deltaCharged"] = a.ChargedPerCohort.Delta,
            ["cohortsCharged"] = a.CohortsCharged,
            ["budget"] = new JsonObject
            {
                ["epsilon"] = options.PeriodBudgetEpsilon,
                ["delta"] = options.PeriodBudgetDelta,
                ["epsilonSpentBefore"] = spentBefore.Epsilon,
                ["deltaSpentBefore"] = spentBefore.Delta,
                ["epsilonSpentAfter"] = spentAfter.Epsilon,
                ["deltaSpentAfter"] = spentAfter.Delta,
            },
            ["epsilonPerStatistic"] = a.EpsilonPerStatistic,
            ["deltaPerStatistic"] = a.DeltaPerStatistic,
            ["noise"] = new JsonArray(a.Noise.Select(n => (JsonNode)new JsonObject
            {
                ["statistic"] = n.Statistic, ["sensitivity"] = n.Sensitivity, ["scale"] = n.Scale,
            }).ToArray()),
            ["clip"] = new JsonObject { ["sessionSeconds"] = a.MaxSessionSeconds, ["revenue"] = a.MaxRevenue },
            ["minimumCohortSize"] = a.MinimumCohortSize,
            ["suppression"] = a.SuppressionRule,
            ["bands"] = a.Bands,
            ["cohortsReleased"] = a.CohortsReleased,
            ["cohortsSuppressed"] = a.CohortsSuppressed,
            ["cohorts"] = new JsonArray(result.Cohorts.Select(c => (JsonNode)new JsonObject
            {
                ["cohort"] = c.Cohort,
                ["users"] = c.Users,
                ["averageSessionSeconds"] = c.AverageSessionSeconds,
                ["conversionRate"] = c.ConversionRate,
                ["revenue"] = c.Revenue,
                ["revenuePerUser"] = c.RevenuePerUser,
            }).ToArray()),
        };
        return doc.ToJsonString();
    }

    /// <summary>Record key (also its <c>sp-record-id</c>): period/cohort.</summary>
    public static string RecordKey(string period, string cohort) => $"{period}/{cohort}";

    /// <summary>
    /// One <c>cohort-metrics</c> record per released cohort of <paramref name="document"/>: key = period/cohort, value = the
    /// cohort's metrics with the period, mechanism, ε/δ charged and noise scales. None for a refused release.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, byte[]>> MetricRecords(string document)
    {
        var doc = Parse(document);
        if (doc["status"]!.GetValue<string>() != "released") return [];
        var period = doc["period"]!.GetValue<string>();
        var records = new List<KeyValuePair<string, byte[]>>();
        foreach (var c in doc["cohorts"]!.AsArray())
        {
            var cohort = c!["cohort"]!.GetValue<string>();
            var key = RecordKey(period, cohort);
            var record = new JsonObject
            {
                ["schema"] = Schema,
                ["recordId"] = key,
                ["period"] = period,
                ["periodStart"] = doc["periodStart"]!.DeepClone(),
                ["periodEnd"] = doc["periodEnd"]!.DeepClone(),
                ["cohort"] = cohort,
                ["users"] = c["users"]!.DeepClone(),
                ["averageSessionSeconds"] = c["averageSessionSeconds"]!.DeepClone(),
                ["conversionRate"] = c["conversionRate"]!.DeepClone(),
                ["revenue"] = c["revenue"]!.DeepClone(),
                ["revenuePerUser"] = c["revenuePerUser"]!.DeepClone(),
                ["mechanism"] = doc["mechanism"]!.DeepClone(),
                ["epsilon"] = doc["epsilonCharged"]!.DeepClone(),
                ["delta"] = doc["deltaCharged"]!.DeepClone(),
                ["noise"] = doc["noise"]!.DeepClone(),
            };
            records.Add(new(key, Encoding.UTF8.GetBytes(record.ToJsonString())));
        }
        return records;
    }

    /// <summary>The critical <c>privacy_budget</c> alert of a refused release (subject = period), or null for a released one.</summary>
    public static Alert? RefusalAlert(string document)
    {
        var doc = Parse(document);
        if (doc["status"]!.GetValue<string>() == "released") return null;
        var period = doc["period"]!.GetValue<string>();
        var refusal = doc["refusal"]!;
        var budget = doc["budget"]!;
        var endMs = CohortPeriod.TryParse(period, out var p) ? p.EndMs : (long?)null;
        double Num(JsonNode n, string name) => n[name]!.GetValue<double>();
        return new Alert(AlertScope, BudgetDetector, period, AlertSeverity.Critical, AlertState.Raised, 1, 0, endMs,
            $"Cohort release {period} refused ({refusal["reason"]!.GetValue<string>()}): {refusal["detail"]?.GetValue<string>()}",
            [
                new("epsilon_requested", Num(doc, "epsilonRequested")),
                new("epsilon_spent", Num(budget, "epsilonSpentBefore")),
                new("epsilon_budget", Num(budget, "epsilon")),
                new("delta_requested", Num(doc, "deltaRequested")),
                new("delta_spent", Num(budget, "deltaSpentBefore")),
                new("delta_budget", Num(budget, "delta")),
            ]);
    }

    private static JsonNode Parse(string document) =>
        JsonNode.Parse(document) ?? throw new JsonException("empty cohort release document");

    // EpsilonBudgetExceeded → epsilon_budget_exceeded.
    private static string Snake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLower(pascal[i], CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
