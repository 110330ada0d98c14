namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>How variants are chosen: by a fixed weighted hash split, a hash split per factor, or by a bandit posterior.</summary>
public enum ExperimentKind
{
    /// <summary>Weighted split of users by salted hashing; weights never change while running.</summary>
    Fixed,
    /// <summary>Every factor is split independently (orthogonal hashes); a variant is one cell of the product.</summary>
    Factorial,
    /// <summary>Arms are drawn from the current posterior (Thompson sampling); weights only seed the prior allocation.</summary>
    Bandit,
}

/// <summary>Lifecycle of an experiment; only <see cref="Running"/> assigns new users.</summary>
public enum ExperimentStatus
{
    Draft,
    Running,
    Paused,
    Stopped,
}

/// <summary>Shape of a metric, which decides the posterior and the tests (Beta–Bernoulli vs Normal).</summary>
public enum MetricKind
{
    /// <summary>Converted or not, once per user.</summary>
    Binary,
    /// <summary>A value summed per user (e.g. revenue).</summary>
    Continuous,
}

/// <summary>Which direction of change in a guardrail metric counts as harm.</summary>
public enum GuardrailDirection
{
    /// <summary>Alert when the metric gets worse by going down (revenue, retention).</summary>
    MustNotDecrease,
    /// <summary>Alert when the metric gets worse by going up (latency, error rate, unsubscribes).</summary>
    MustNotIncrease,
}

/// <summary>The spellings used in YAML and JSON for the enums above, kept in one place so the loader, the API and error messages agree.</summary>
public static class ExperimentNames
{
    public static readonly IReadOnlyDictionary<string, ExperimentKind> Kinds = new Dictionary<string, ExperimentKind>(StringComparer.Ordinal)
    {
        ["fixed"] = ExperimentKind.Fixed, ["factorial"] = ExperimentKind.Factorial, ["bandit"] = ExperimentKind.Bandit,
    };

    public static readonly IReadOnlyDictionary<string, ExperimentStatus> Statuses = new Dictionary<string, ExperimentStatus>(StringComparer.Ordinal)
    {
        ["draft"] = ExperimentStatus.Draft, ["running"] = ExperimentStatus.Running,
        ["paused"] = ExperimentStatus.Paused, ["stopped"] = ExperimentStatus.Stopped,
    };

    public static readonly IReadOnlyDictionary<string, MetricKind> MetricKinds = new Dictionary<string, MetricKind>(StringComparer.Ordinal)
    {
        ["binary"] = MetricKind.Binary, ["continuous"] = MetricKind.Continuous,
    };

    public static readonly IReadOnlyDictionary<string, GuardrailDirection> Directions = new Dictionary<string, GuardrailDirection>(StringComparer.Ordinal)
    {
        ["must_not_decrease"] = GuardrailDirection.MustNotDecrease, ["must_not_increase"] = GuardrailDirection.MustNotIncrease,
    };

    /// <summary>
    /// Guardrail metrics the experiment entity can test, because its per-arm sums hold them: <c>conversion</c> (per-user 0/1)
    /// and <c>revenue</c> (per-user value total).
    /// </summary>
    public static readonly IReadOnlyList<string> GuardrailMetrics = ["conversion", "revenue"];

    /// <summary>The wire name of an enum value (the key mapping to it in the table above).</summary>
    public static string Of<T>(IReadOnlyDictionary<string, T> table, T value) where T : struct, Enum =>
        table.First(p => EqualityComparer<T>.Default.Equals(p.Value, value)).Key;
}
