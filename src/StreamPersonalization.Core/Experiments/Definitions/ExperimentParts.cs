using System.Collections.Immutable;

namespace StreamPersonalization.Core.Experiments.Definitions;

/// <summary>One arm of a fixed or bandit experiment (or one cell of a factorial one). Weights are relative, not percentages.</summary>
public sealed record VariantDefinition(string Id, double Weight);

/// <summary>One factor of a factorial experiment; its levels are split uniformly and independently of other factors.</summary>
public sealed record FactorDefinition(string Name, ImmutableArray<string> Levels);

/// <summary>
/// Who may enter the experiment. Segments are all-of (the user must be in every listed segment); countries and
/// devices are any-of; an empty list does not restrict.
/// </summary>
public sealed record TargetingRule(ImmutableArray<string> Segments, ImmutableArray<string> Countries, ImmutableArray<string> Devices)
{
    /// <summary>Targets everyone.</summary>
    public static TargetingRule Everyone { get; } = new([], [], []);
}

/// <summary>The metric the experiment is decided on; its kind selects the posterior family and tests.</summary>
public sealed record MetricDefinition(string Name, MetricKind Kind);

/// <summary>A metric that must not get worse in the given direction; a breach raises an alert.</summary>
public sealed record GuardrailDefinition(string Metric, GuardrailDirection Direction);
