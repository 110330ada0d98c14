using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using static StreamPersonalization.Core.Tests.Experiments.State.Deltas;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>
/// Format 2 of deltas and states adds per-arm value histograms; format-1 bytes (written here field by field in the old
/// layout, independently of the production writer) must still be read, with histograms empty.
/// </summary>
public class FormatVersionTests
{
    private static readonly ValueHistogram Moves = ValueHistogram.From([new(0, 10), new(41, -2), new(45, 2)]);

    [Fact]
    public void DeltaToBytes_Version2_RoundTripsHistograms()
    {
        var d = Range(1, 0, 9, new ArmDelta("control", 10, 2, 3, 5, 0, 0, 0) { Histogram = Moves }, Arm("treatment", 4));
        var bytes = d.ToBytes();
        Assert.Equal(2, bytes[0]);
        var copy = ExperimentDelta.FromBytes(bytes);
        Assert.True(d.SameAs(copy));
        Assert.Equal(Moves, copy.Arms[0].Histogram);
        Assert.Equal(ValueHistogram.Empty, copy.Arms[1].Histogram);
        Assert.Contains("bins{0:10 41:-2 45:2}", d.Arms[0].ToString());
    }

    [Fact]
    public void DeltaFromBytes_Version1_ReadsSumsWithEmptyHistograms()
    {
        var v1 = Bytes(w =>
        {
            w.Write((byte)1); w.Write(Experiment); w.Write(3); w.Write(100L); w.Write(250L); w.Write(1);
            WriteV1Arm(w, "control", 12, 3, 45.5, 300.25, -1.5, 7, 2);
        });
        var d = ExperimentDelta.FromBytes(v1);
        Assert.True(d.SameAs(Range(3, 100, 250, new ArmDelta("control", 12, 3, 45.5, 300.25, -1.5, 7, 2))));
        Assert.Equal(ValueHistogram.Empty, d.Arms[0].Histogram);
    }

    [Fact]
    public void StateFromBytes_Version1_ReadsEverythingAndWritesVersion2()
    {
        var v1 = Bytes(w =>
        {
            w.Write((byte)1); w.Write(Experiment); w.Write("control"); w.Write((byte)MetricKind.Continuous); w.Write(1.0); w.Write(4L);
            w.Write(2);
            WriteV1Arm(w, "control", 50, 5, 1.5, 2.25, 3, 9, 4.5);
            WriteV1Arm(w, "treatment", 60, 9, 2, 4, 0, 0, 0);
            w.Write(1); w.Write(0); w.Write(10L);
            w.Write(1); w.Write("treatment"); w.Write(1.0); w.Write(0.25); w.Write(4L);
        });
        var s = ExperimentState.FromBytes(v1);
        Assert.Equal(4, s.Sequence);
        Assert.Equal(new ArmAggregate("control", 50, 5, 1.5, 2.25, 3, 9, 4.5), s.Arm("control"));
        Assert.Equal(ValueHistogram.Empty, s.Arm("treatment").Histogram);
        Assert.Equal(10, s.Mark(0));
        Assert.Equal(0.25, s.Msprt["treatment"].PValue);
        var v2 = s.ToBytes();
        Assert.Equal(2, v2[0]);
        Assert.Equal(v2, ExperimentState.FromBytes(v2).ToBytes());
    }

    [Fact]
    public void StateToBytes_Version2_RoundTripsHistograms()
    {
        var s = NewState(MetricKind.Continuous);
        s.Apply(Range(0, 0, 5, new ArmDelta("control", 10, 0, 3, 5, 0, 0, 0) { Histogram = Moves }));
        s.Apply(Range(0, 5, 8, new ArmDelta("control", 1, 0, 0, 0, 0, 0, 0) { Histogram = ValueHistogram.From([new(0, 1)]) }));
        var copy = ExperimentState.FromBytes(s.ToBytes());
        Assert.Equal(ValueHistogram.From([new(0, 11), new(41, -2), new(45, 2)]), copy.Arm("control").Histogram);
        Assert.Equal(s.Arms, copy.Arms);
    }

    [Fact]
    public void Snapshot_StateFromVersion1_ReportsMissingThenIncompleteHistogram()
    {
        var shape = Shape(MetricKind.Continuous);
        var v1 = Bytes(w =>
        {
            w.Write((byte)1); w.Write(Experiment); w.Write("control"); w.Write((byte)MetricKind.Continuous); w.Write(1.0); w.Write(1L);
            w.Write(2);
            WriteV1Arm(w, "control", 50, 0, 100, 400, 0, 0, 0);
            WriteV1Arm(w, "treatment", 60, 0, 130, 500, 0, 0, 0);
            w.Write(1); w.Write(0); w.Write(10L);
            w.Write(0);
        });
        var state = ExperimentState.FromBytes(v1);
        var t = SnapshotCalculator.Compute(state, shape, seed: 1).Tests[0];
        Assert.Equal("mwu.NoHistogram", t.MannWhitney!.Error);
        Assert.Contains("mwu.NoHistogram", t.Errors);
        Assert.True(double.IsNaN(t.MannWhitney.PValue));

        // Users exposed after the upgrade arrive with histograms, which then cover only part of the arm.
        var later = ValueHistogram.From([new(0, 3), new(50, 2)]);
        Assert.Equal(ApplyOutcome.Applied, state.Apply(Range(0, 10, 20,
            new ArmDelta("control", 5, 0, 30, 200, 0, 0, 0) { Histogram = later }, new ArmDelta("treatment", 5, 0, 30, 200, 0, 0, 0) { Histogram = later })));
        t = SnapshotCalculator.Compute(state, shape, seed: 1).Tests[0];
        Assert.Equal("mwu.HistogramIncomplete", t.MannWhitney!.Error);
    }

    private static void WriteV1Arm(BinaryWriter w, string variant, long users, long conversions, double sy, double syy, double sx, double sxx, double sxy)
    {
        w.Write(variant); w.Write(users); w.Write(conversions); w.Write(sy); w.Write(syy); w.Write(sx); w.Write(sxx); w.Write(sxy);
    }

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) write(w);
        return ms.ToArray();
    }
}
