namespace StreamPersonalization.Core.Privacy.Cohorts;

/// <summary>
/// Band edges that turn non-identifying user features into cohorts (configuration section
/// <c>Privacy:Cohorts:Bands</c>). k edges give k + 1 bands: [−∞, e₁), [e₁, e₂), …, [e_k, ∞). Keep bands coarse:
/// every extra band splits users into smaller cohorts, and more of them fall under the minimum size. Change bands
/// only at a period boundary (cohort names are the accounting keys; see <c>PrivacyAccountant</c>).
/// </summary>
public sealed record CohortBandOptions
{
    /// <value>Strictly increasing finite edges on engagement_score. Default [5, 20, 50]. At most 10 edges.</value>
    public double[] EngagementEdges { get; init; } = [5, 20, 50];

    /// <value>Strictly increasing finite edges on days_since_last_session (users without a session fall in the last band). Default [1, 7, 30]. At most 10.</value>
    public double[] RecencyEdgesDays { get; init; } = [1, 7, 30];

    /// <value>Device types with their own band (case-insensitive; any other device, or none, is "other"). Default desktop, mobile, tablet. At most 10, each 1–32 characters, not "other".</value>
    public string[] DeviceTypes { get; init; } = ["desktop", "mobile", "tablet"];

    /// <summary>Throws <see cref="ArgumentException"/> naming the configuration key and what is allowed.</summary>
    public CohortBandOptions Validate()
    {
        CheckEdges(EngagementEdges, "Privacy:Cohorts:Bands:EngagementEdges");
        CheckEdges(RecencyEdgesDays, "Privacy:Cohorts:Bands:RecencyEdgesDays");
        const string key = "Privacy:Cohorts:Bands:DeviceTypes";
        if (DeviceTypes is null || DeviceTypes.Length > 10) Fail(key, "allowed: a list of at most 10 device types");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var d in DeviceTypes!)
        {
            if (string.IsNullOrWhiteSpace(d) || d.Length > 32) Fail(key, $"contains '{d}'; allowed: 1-32 characters");
            if (d.Equals(CohortBands.OtherDevice, StringComparison.OrdinalIgnoreCase)) Fail(key, "contains 'other', which is the implicit band for unlisted devices");
            if (!seen.Add(d)) Fail(key, $"lists '{d}' twice");
        }
        return this;
    }

    private static void CheckEdges(double[]? edges, string key)
    {
        if (edges is null || edges.Length > 10) Fail(key, "allowed: at most 10 strictly increasing finite numbers");
        for (var i = 0; i < edges!.Length; i++)
            if (!double.IsFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1]))
                Fail(key, $"is [{string.Join(", ", edges)}]; allowed: at most 10 strictly increasing finite numbers");
    }

    private static void Fail(string key, string message) => throw new ArgumentException($"Configuration key '{key}' {message}.", key);

    public override string ToString() =>
        $"CohortBandOptions(engagement [{string.Join(", ", EngagementEdges)}], recency days [{string.Join(", ", RecencyEdgesDays)}], devices [{string.Join(", ", DeviceTypes)}])";
}
