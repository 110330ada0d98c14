namespace StreamPersonalization.Core.Experiments.Attribution;

/// <summary>
/// Where attribution puts a user's contributions: the partition's <see cref="ExperimentDeltaBuilder"/>, or, in a user
/// actor, an <see cref="ExperimentDeltaRecorder"/> whose operations the partition replays into its builder in offset
/// order (sums of doubles depend on their order, so they must be added in the same order on every run).
/// </summary>
public interface IExperimentDeltaSink
{
    void Exposed(ExperimentExposure e);

    void Converted(ExperimentExposure e, bool binaryMetric);

    void ValueChanged(ExperimentExposure e, double from, double to, bool continuousMetric);

    void Removed(ExperimentExposure e, bool binaryMetric);
}

/// <summary>
/// Records attribution operations with the source offset of the event that caused them, to be replayed elsewhere.
/// Each operation keeps a copy of the exposure as it was (exposures are mutated by later events).
/// </summary>
public sealed class ExperimentDeltaRecorder : IExperimentDeltaSink
{
    private readonly List<ExperimentDeltaOp> _ops = [];

    /// <summary>Source offset of the event being applied; stamped on every operation recorded.</summary>
    public long Offset { get; set; }

    public int Count => _ops.Count;

    public void Exposed(ExperimentExposure e) => Add(DeltaOpKind.Exposed, e, false, 0, 0);

    public void Converted(ExperimentExposure e, bool binaryMetric) => Add(DeltaOpKind.Converted, e, binaryMetric, 0, 0);

    public void ValueChanged(ExperimentExposure e, double from, double to, bool continuousMetric) => Add(DeltaOpKind.ValueChanged, e, continuousMetric, from, to);

    public void Removed(ExperimentExposure e, bool binaryMetric) => Add(DeltaOpKind.Removed, e, binaryMetric, 0, 0);

    private void Add(DeltaOpKind kind, ExperimentExposure e, bool flag, double from, double to) =>
        _ops.Add(new ExperimentDeltaOp(Offset, kind, Snapshot(e), flag, from, to));

    private static ExperimentExposure Snapshot(ExperimentExposure e) =>
        new(e.ExperimentId, e.VariantId, e.ExposedAtMs, e.Covariate) { Converted = e.Converted, Value = e.Value };

    /// <summary>The operations recorded since the last call, in the order they happened; then starts empty.</summary>
    public ExperimentDeltaOp[] Take()
    {
        if (_ops.Count == 0) return [];
        var taken = _ops.ToArray();
        _ops.Clear();
        return taken;
    }
}

public enum DeltaOpKind : byte { Exposed, Converted, ValueChanged, Removed }

/// <summary>One recorded attribution operation; <see cref="Flag"/> is the metric-kind argument of the call.</summary>
public sealed record ExperimentDeltaOp(long Offset, DeltaOpKind Kind, ExperimentExposure Exposure, bool Flag, double From, double To)
{
    public void ApplyTo(IExperimentDeltaSink sink)
    {
        switch (Kind)
        {
            case DeltaOpKind.Exposed: sink.Exposed(Exposure); break;
            case DeltaOpKind.Converted: sink.Converted(Exposure, Flag); break;
            case DeltaOpKind.ValueChanged: sink.ValueChanged(Exposure, From, To, Flag); break;
            case DeltaOpKind.Removed: sink.Removed(Exposure, Flag); break;
        }
    }

    public override string ToString() => $"{Kind}@{Offset}({Exposure.ExperimentId}/{Exposure.VariantId})";
}
