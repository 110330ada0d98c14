namespace StreamPersonalization.Core.Experiments.State;

/// <summary>How variants are served: a fixed split, a factorial split, or a Thompson-sampling bandit.</summary>
public enum ExperimentKind
{
    /// <summary>Fixed intended shares.</summary>
    Fixed,
    /// <summary>Factorial cells served in fixed shares.</summary>
    Factorial,
    /// <summary>Shares follow the posterior (Thompson sampling).</summary>
    Bandit,
}

/// <summary>The primary metric: a per-user 0/1 conversion or a per-user continuous total.</summary>
public enum MetricKind
{
    /// <summary>Did the user convert (counted once per user).</summary>
    Binary,
    /// <summary>Per-user summed value (revenue, watch time).</summary>
    Continuous,
}

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
}
