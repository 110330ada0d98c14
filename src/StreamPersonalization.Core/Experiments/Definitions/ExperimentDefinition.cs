using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>
/// One experiment as configured (from <c>experiments.yaml</c> or the admin API). Immutable so a definition can be
/// shared by every assignment thread and swapped atomically when a new version arrives. For factorial experiments
/// <see cref="Variants"/> is the cartesian product of <see cref="Factors"/> (see <see cref="FactorialCells"/>), in
/// row-major order with the first factor varying slowest, because assignment indexes into it by that order.
/// </summary>
public sealed partial record ExperimentDefinition
{
    /// <summary>Default per-arm minimum sample before results are considered.</summary>
    public const int DefaultMinimumSample = 100;

    /// <summary>Largest factorial product: more cells than this cannot each reach a useful sample.</summary>
    public const int MaxFactorialCells = 64;

    public required string Id { get; init; }
    public string Description { get; init; } = "";
    public required ExperimentKind Kind { get; init; }
    public required ImmutableArray<VariantDefinition> Variants { get; init; }
    /// <summary>Factors of a factorial experiment; empty for fixed and bandit experiments.</summary>
    public ImmutableArray<FactorDefinition> Factors { get; init; } = [];
    public TargetingRule Targeting { get; init; } = TargetingRule.Everyone;
    public required MetricDefinition PrimaryMetric { get; init; }
    public ImmutableArray<GuardrailDefinition> Guardrails { get; init; } = [];
    public ExperimentStatus Status { get; init; } = ExperimentStatus.Draft;
    /// <summary>Users per arm before decisions and alerts other than SRM are trusted.</summary>
    public int MinimumSample { get; init; } = DefaultMinimumSample;
    /// <summary>Served to users who are not assigned (not targeted, no consent, incomplete data, not running).</summary>
    public required string FallbackVariant { get; init; }

    /// <summary>Hash salt; defaults to the id. Changing it reshuffles every user, so it is explicit in the definition.</summary>
    public string Salt
    {
        get => _salt ?? Id;
        init => _salt = value;
    }

    private readonly string? _salt;

    /// <summary>Definition version; bump on every change so snapshots and exposures can say which definition applied.</summary>
    public int Version { get; init; } = 1;

    [GeneratedRegex("^[a-z0-9_-]+$")]
    internal static partial Regex IdPattern();

    /// <summary>Whether <paramref name="variantId"/> is one of <see cref="Variants"/>.</summary>
    public bool HasVariant(string variantId)
    {
        foreach (var v in Variants)
            if (string.Equals(v.Id, variantId, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// Cells of a factorial design, id <c>factor=level,factor=level</c>, first factor varying slowest, weight 1 each
    /// (every factor is split uniformly, so every cell has equal expected share).
    /// </summary>
    public static ImmutableArray<VariantDefinition> FactorialCells(IReadOnlyList<FactorDefinition> factors)
    {
        IEnumerable<string> cells = [""];
        foreach (var factor in factors)
        {
            var f = factor;
            cells = cells.SelectMany(prefix => f.Levels.Select(level => prefix.Length == 0 ? $"{f.Name}={level}" : $"{prefix},{f.Name}={level}"));
        }
        return factors.Count == 0 ? [] : [.. cells.Select(id => new VariantDefinition(id, 1))];
    }

    /// <summary>
    /// Checks every rule a definition must satisfy; throws <see cref="ExperimentDefinitionException"/> naming the field.
    /// Used for definitions from the admin API; the YAML loader calls the same rules with the file and position.
    /// </summary>
    public void Validate() => ExperimentDefinitionValidator.Validate(this, null, null);
}
