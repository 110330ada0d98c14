using System.Diagnostics;
using StreamPersonalization.Core.Experiments.State;
using Xunit.Abstractions;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>Prints (does not assert) the cost of Apply and of a snapshot, for the README's per-delta figure.</summary>
public class CostTests(ITestOutputHelper output)
{
    [Fact]
    public void Apply_And_Compute_PrintCost()
    {
        var shape = Deltas.Shape();
        const int deltas = 200_000;
        var batch = Enumerable.Range(0, deltas).Select(i => Deltas.Range(i % 8, i / 8 * 10L, i / 8 * 10L + 10,
            new ArmDelta("control", 50, 5 + i % 3, 0, 0, 0, 0, 0), new ArmDelta("treatment", 50, 6 + i % 3, 0, 0, 0, 0, 0))).ToArray();
        var state = ExperimentState.For(shape);
        for (var i = 0; i < 1000; i++) ExperimentState.For(shape).Apply(batch[i]);
        var sw = Stopwatch.StartNew();
        foreach (var d in batch) state.Apply(d);
        sw.Stop();
        var applyNs = sw.Elapsed.TotalNanoseconds / deltas;

        sw.Restart();
        foreach (var d in batch) state.Apply(d);
        sw.Stop();
        var duplicateNs = sw.Elapsed.TotalNanoseconds / deltas;

        var decodeSw = Stopwatch.StartNew();
        var bytes = batch[0].ToBytes();
        for (var i = 0; i < 100_000; i++) ExperimentDelta.FromBytes(bytes);
        decodeSw.Stop();

        SnapshotCalculator.Compute(state, shape, 1);
        const int snapshots = 20;
        sw.Restart();
        for (var i = 0; i < snapshots; i++) SnapshotJson.ToUtf8(SnapshotCalculator.Compute(state, shape, (ulong)i));
        sw.Stop();
        var snapshotMs = sw.Elapsed.TotalMilliseconds / snapshots;

        output.WriteLine($"Apply (2 arms, incl. mSPRT look): {applyNs:F0} ns/delta; duplicate skip: {duplicateNs:F0} ns/delta");
        output.WriteLine($"Delta decode ({bytes.Length} bytes): {decodeSw.Elapsed.TotalNanoseconds / 100_000:F0} ns");
        output.WriteLine($"Snapshot + JSON (2 arms, {SnapshotOptions.Default.MonteCarloDraws} draws): {snapshotMs:F2} ms");
        Assert.Equal(deltas, state.Sequence);
    }
}
