using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// The few facts about an experiment definition that the statistics need. A local record rather than the
/// definition type so the experiment entity does not depend on how definitions are parsed or stored.
/// The first variant is the control; <see cref="IntendedShares"/> are weights in variant order.
/// </summary>
public sealed record ExperimentShape(
    string ExperimentId,
    IReadOnlyList<string> VariantIds,
    IReadOnlyList<double> IntendedShares,
    ExperimentKind Kind,
    MetricKind PrimaryMetric)
{
    /// <summary>The control variant, against which every other arm is tested.</summary>
    public string ControlVariantId => VariantIds[0];

    /// <summary>Factors of a factorial experiment, whose variant ids are cells <c>factor=level,factor=level</c>; empty otherwise.</summary>
    public IReadOnlyList<FactorShape> Factors { get; init; } = [];

    /// <summary>The shape of a validated definition: variants in definition order (the first is the control), weights as shares, factors.</summary>
    public static ExperimentShape From(ExperimentDefinition d) =>
        new(d.Id, d.Variants.Select(v => v.Id).ToArray(), d.Variants.Select(v => v.Weight).ToArray(), d.Kind, d.PrimaryMetric.Kind)
        {
            Factors = d.Factors.IsDefaultOrEmpty ? [] : d.Factors.Select(f => new FactorShape(f.Name, f.Levels.ToArray())).ToArray(),
        };
}

/// <summary>One factor of a factorial experiment and its levels in definition order.</summary>
public sealed record FactorShape(string Name, IReadOnlyList<string> Levels)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}[{string.Join(", ", Levels)}]";
}
