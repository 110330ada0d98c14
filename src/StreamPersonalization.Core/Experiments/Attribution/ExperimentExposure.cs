namespace StreamPersonalization.Core.Experiments.Attribution;

/// <summary>
/// One user's exposure to one variant of an experiment, kept in the user entity. A user counts once per
/// variant; <see cref="Covariate"/> is the user's engagement score just before the exposure (CUPED's x).
/// </summary>
public sealed class ExperimentExposure(string experimentId, string variantId, long exposedAtMs, double covariate)
{
    public string ExperimentId { get; } = experimentId;

    public string VariantId { get; } = variantId;

    public long ExposedAtMs { get; } = exposedAtMs;

    public double Covariate { get; } = covariate;

    /// <summary>Converted after exposure (binary metric, at most once).</summary>
    public bool Converted { get; internal set; }

    /// <summary>Sum of attributed values after exposure (continuous metric).</summary>
    public double Value { get; internal set; }

    /// <summary>An exposure as it was recorded elsewhere (a stored state or a message from another node).</summary>
    public static ExperimentExposure Restore(string experimentId, string variantId, long exposedAtMs, double covariate, bool converted, double value) =>
        new(experimentId, variantId, exposedAtMs, covariate) { Converted = converted, Value = value };

    public override string ToString() => $"Exposure({ExperimentId}/{VariantId} @{ExposedAtMs} x={Covariate:G4} converted={Converted} value={Value:G6})";
}
