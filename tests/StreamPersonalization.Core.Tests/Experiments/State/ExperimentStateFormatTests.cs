using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Statistics.Sequential;
using StreamPersonalization.Core.Tests.Experiments.Alerts;
using static StreamPersonalization.Core.Tests.Experiments.State.Deltas;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>Format 2 of the state and the delta, and reading the format-1 bytes earlier builds wrote (laid out here by hand).</summary>
public class ExperimentStateFormatTests
{
    private static void WriteArm(BinaryWriter w, string id, long users, long conversions, params double[] sums)
    {
        w.Write(id); w.Write(users); w.Write(conversions);
        foreach (var s in sums) w.Write(s);
    }

    [Fact]
    public void FromBytes_Format1State_ReadsSumsMarksAndMsprtWithFreshDetectors()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write((byte)1); w.Write("exp-1"); w.Write("control"); w.Write((byte)MetricKind.Binary); w.Write(1e-4); w.Write(7L);
            w.Write(2);
            WriteArm(w, "control", 500, 50, 12.5, 40, 3, 9, 1.5);
            WriteArm(w, "treatment", 480, 61, 0, 0, 0, 0, 0);
            w.Write(1); w.Write(3); w.Write(900L);
            w.Write(1); w.Write("treatment"); w.Write(1e-4); w.Write(0.25); w.Write(7L);
        }
        var s = ExperimentState.FromBytes(ms.ToArray());

        Assert.Equal(new ArmAggregate("control", 500, 50, 12.5, 40, 3, 9, 1.5), s.Arm("control"));
        Assert.Equal(61, s.Arm("treatment").Conversions);
        Assert.Equal(900, s.Mark(3));
        Assert.Equal(new MsprtState(1e-4, 0.25, 7), s.Msprt["treatment"]);
        Assert.Equal(7, s.Sequence);
        Assert.Null(s.WatermarkMs);
        Assert.Null(s.Minutes.OpenMinute);
        Assert.Empty(s.Guardrails.Tracks);
        Assert.Empty(s.RaisedAlerts);
        var v2 = s.ToBytes();
        Assert.Equal(ExperimentState.FormatVersion, v2[0]);
        Assert.Equal(ApplyOutcome.Applied, s.Apply(Range(3, 900, 950, Arm("control", 10, 1), Arm("treatment", 10, 2))));
        Assert.Single(s.Guardrails.Tracks, t => t.Metric == "conversion");
    }

    [Fact]
    public void FromBytes_Format1Delta_HasUnknownWatermark()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write((byte)1); w.Write("exp-1"); w.Write(4); w.Write(100L); w.Write(250L);
            w.Write(1);
            WriteArm(w, "control", 12, 3, 45.5, 300.25, -1.5, 7, 2);
        }
        var d = ExperimentDelta.FromBytes(ms.ToArray());
        Assert.True(d.SameAs(new ExperimentDelta("exp-1", 4, 100, 250, [new ArmDelta("control", 12, 3, 45.5, 300.25, -1.5, 7, 2)])));
        Assert.Null(d.WatermarkMs);
        Assert.Contains("wm=unknown", d.ToString());
    }

    [Fact]
    public void DeltaToBytes_WithWatermark_RoundTripsInFormat2()
    {
        var d = new ExperimentDelta("exp-1", 2, 0, 10, [Arm("control", 5, 1)], DetectorScenario.Start);
        var bytes = d.ToBytes();
        Assert.Equal(2, bytes[0]);
        var copy = ExperimentDelta.FromBytes(bytes);
        Assert.True(d.SameAs(copy));
        Assert.False(d.SameAs(copy with { WatermarkMs = null }));
        Assert.Contains("wm=2026-11-22T10:00:00.000Z", d.ToString());
    }

    /// <summary>A state with charts past warm-up, guardrail tracks and raised alerts survives a checkpoint byte for byte and then behaves identically.</summary>
    [Fact]
    public void ToBytes_RoundTripWithDetectors_ContinuesIdentically()
    {
        var policy = new AlertPolicy([new("conversion", GuardrailDirection.MustNotDecrease)], 100);
        var options = new DetectorOptions { AnomalyWarmUpMinutes = 10 };
        var rng = new Random(3);
        ExperimentDelta Delta(int i) => new("exp-1", 0, i * 10L, i * 10L + 10,
            [Arm("control", 300, 30 + rng.Next(-5, 6)), Arm("treatment", 300, (i < 30 ? 30 : 15) + rng.Next(-5, 6))], DetectorScenario.Start + i * 30_000L);
        var shape = Shape();
        var original = ExperimentState.For(shape, detectors: options);
        for (var i = 0; i < 40; i++)
        {
            original.Apply(Delta(i));
            original.EvaluateAlerts(SnapshotCalculator.Compute(original, shape, 1, new SnapshotOptions { MonteCarloDraws = 100 }), shape, policy, options);
        }
        Assert.Contains(original.RaisedAlerts, a => a.Detector == AlertDetectors.MetricAnomaly);
        Assert.Contains(original.RaisedAlerts, a => a.Detector == AlertDetectors.GuardrailBreach);

        var restored = ExperimentState.FromBytes(original.ToBytes());
        Assert.Equal(original.ToBytes(), restored.ToBytes());
        for (var i = 40; i < 60; i++)
        {
            var d = Delta(i);
            var changes = new List<string>();
            foreach (var s in new[] { original, restored })
            {
                s.Apply(d);
                var e = s.EvaluateAlerts(SnapshotCalculator.Compute(s, shape, 1, new SnapshotOptions { MonteCarloDraws = 100 }), shape, policy, options);
                changes.Add(string.Join("\n", e.Changes.Select(AlertJson.ToJson)) + SnapshotJson.ToJson(e.Snapshot));
            }
            Assert.Equal(changes[0], changes[1]);
        }
        Assert.Equal(original.ToBytes(), restored.ToBytes());
    }

    [Fact]
    public void EvaluateAlerts_SrmInSnapshot_RaisesOnceAndListsItInSnapshot()
    {
        var shape = Shape();
        var state = Simulation.Run(shape, [0.1, 0.1], [0.52, 0.48], 20_000, seed: 11);
        var snapshot = SnapshotCalculator.Compute(state, shape, seed: 1);
        var policy = new AlertPolicy([], 100);
        var first = state.EvaluateAlerts(snapshot, shape, policy);
        var srm = Assert.Single(first.Changes);
        Assert.Equal(("exp-1/srm", AlertSeverity.Critical, AlertState.Raised, state.Sequence), (srm.Key, srm.Severity, srm.State, srm.Version));
        var evidence = srm.Evidence.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(snapshot.Srm.PValue, evidence["p_value"]);
        Assert.Equal(state.Arm("control").Users, evidence["users.control"]);
        Assert.Equal(0.5, evidence["intended_share.treatment"]);
        var listed = Assert.Single(first.Snapshot.Alerts);
        Assert.Equal(("srm", "critical", "", state.Sequence), (listed.Code, listed.Severity, listed.Subject, listed.RaisedAtVersion));
        Assert.Contains("\"raisedAtVersion\"", SnapshotJson.ToJson(first.Snapshot));
        Assert.Empty(state.EvaluateAlerts(snapshot, shape, policy).Changes);
        Assert.Throws<ArgumentException>(() => state.EvaluateAlerts(snapshot with { ExperimentId = "other" }, shape, policy));
    }

    /// <summary>The stage evaluates on a copy and adopts it after the commit: a failed publish must find the book unchanged.</summary>
    [Fact]
    public void Copy_EvaluatingAlertsOnTheCopy_LeavesTheOriginalsBookSoARetryReportsTheSameChanges()
    {
        var shape = Shape();
        var state = Simulation.Run(shape, [0.1, 0.1], [0.52, 0.48], 20_000, seed: 11);
        var snapshot = SnapshotCalculator.Compute(state, shape, seed: 1);
        var policy = new AlertPolicy([], 100);
        var before = state.ToBytes();

        var failedAttempt = state.Copy();
        var lost = failedAttempt.EvaluateAlerts(snapshot, shape, policy);
        Assert.Single(lost.Changes);
        Assert.Equal(before, state.ToBytes());
        Assert.Empty(state.RaisedAlerts);

        var retry = state.Copy();
        var resent = retry.EvaluateAlerts(snapshot, shape, policy);
        Assert.Equal(lost.Changes.Select(AlertJson.ToJson), resent.Changes.Select(AlertJson.ToJson));
        Assert.Equal(failedAttempt.ToBytes(), retry.ToBytes());
        Assert.Empty(retry.EvaluateAlerts(snapshot, shape, policy).Changes);   // once adopted, the book de-duplicates as before
    }
}
