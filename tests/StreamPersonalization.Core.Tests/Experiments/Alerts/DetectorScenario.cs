using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

/// <summary>Shared pieces of the detector simulations: a two-arm shape, contiguous deltas per partition, and a cheap snapshot.</summary>
internal sealed class DetectorScenario
{
    public const long Start = 1_795_341_600_000;   // 2026-11-22T10:00:00Z
    public static readonly ExperimentShape Shape = new("exp-1", ["control", "treatment"], [1.0, 1.0], ExperimentKind.Fixed, MetricKind.Binary);

    private readonly long[] marks = new long[8];
    public ExperimentState State { get; } = ExperimentState.For(Shape);
    public List<Alert> Changes { get; } = [];

    public void Apply(int partition, long? watermarkMs, params ArmDelta[] arms)
    {
        var outcome = State.Apply(new ExperimentDelta(Shape.ExperimentId, partition, marks[partition], marks[partition] + 100, arms, watermarkMs));
        if (outcome != ApplyOutcome.Applied) throw new InvalidOperationException(outcome.ToString());
        marks[partition] += 100;
    }

    /// <summary>Evaluates with a snapshot whose SRM did not fire (the detectors under test do not read anything else from it).</summary>
    public IReadOnlyList<Alert> Evaluate(AlertPolicy policy, DetectorOptions? options = null)
    {
        var snapshot = new ExperimentSnapshot(ExperimentSnapshot.CurrentSchema, Shape.ExperimentId, State.Sequence, 0, Shape.Kind, Shape.PrimaryMetric,
            [], [], new SrmSnapshot(double.NaN, 0, double.NaN, false, null), [], []);
        var changes = State.EvaluateAlerts(snapshot, Shape, policy, options).Changes;
        Changes.AddRange(changes);
        return changes;
    }
}
