using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using static StreamPersonalization.Core.Tests.Experiments.State.Deltas;

namespace StreamPersonalization.Core.Tests.Experiments.State;

public class SnapshotCalculatorTests
{
    [Fact]
    public void Compute_KnownConversionRates_EstimatesWithinFourStandardErrors()
    {
        var shape = Shape();
        double[] truth = [0.10, 0.12];
        var state = Simulation.Run(shape, truth, [0.5, 0.5], 40_000, seed: 7);
        var s = SnapshotCalculator.Compute(state, shape, seed: 42);

        for (var i = 0; i < 2; i++)
        {
            var arm = s.Arms[i];
            Assert.InRange(arm.Users, 19_000, 21_000);
            var se = Math.Sqrt(truth[i] * (1 - truth[i]) / arm.Users);
            Assert.InRange(arm.ConversionRate.Value, truth[i] - 4 * se, truth[i] + 4 * se);
            Assert.True(arm.ConversionRate.Lower < arm.ConversionRate.Value && arm.ConversionRate.Value < arm.ConversionRate.Upper);
            Assert.Empty(arm.Errors);
        }
        Assert.True(s.Arms[1].ProbabilityBest > 0.9, $"P(best) = {s.Arms[1].ProbabilityBest}");
        Assert.True(s.Arms[1].ExpectedLoss < s.Arms[0].ExpectedLoss);
        Assert.False(s.Srm.Fired);
        Assert.Null(s.Srm.Error);
        Assert.Empty(s.Alerts);
        var t = Assert.Single(s.Tests);
        Assert.Equal("two-proportion-z", t.Test);
        Assert.True(t.PValue < 1e-3);
        Assert.InRange(0.02, t.Difference.Lower, t.Difference.Upper);
        Assert.Equal(t.PValue, t.HolmPValue, 12);
        Assert.True(t.MsprtPValue < 0.05 && t.MsprtPValue >= t.PValue, $"mSPRT p = {t.MsprtPValue}");
        Assert.Equal(state.Sequence, t.MsprtLooks);
        Assert.Equal(42UL, s.Seed);
        Assert.Equal(state.Sequence, s.Version);
    }

    [Fact]
    public void Compute_Served52To48OnFiftyFifty_SrmFiresWithAlert()
    {
        var shape = Shape();
        var state = Simulation.Run(shape, [0.1, 0.1], [0.52, 0.48], 20_000, seed: 11);
        var s = SnapshotCalculator.Compute(state, shape, seed: 1);
        Assert.True(s.Srm.Fired, $"p = {s.Srm.PValue}");
        Assert.True(s.Srm.PValue < 0.0005);
        Assert.Contains(s.Alerts, a => a.Code == "srm" && a.Severity == "critical");
    }

    [Fact]
    public void Compute_EmptyState_ReportsErrorCodesWithoutThrowing()
    {
        var shape = Shape();
        var s = SnapshotCalculator.Compute(ExperimentState.For(shape), shape, seed: 3);
        Assert.All(s.Arms, a => Assert.Contains("rate.ZeroSampleSize", a.Errors));
        Assert.All(s.Arms, a => Assert.Contains("moments.TooFewUsers", a.Errors));
        var t = Assert.Single(s.Tests);
        Assert.Contains("z.ZeroSampleSize", t.Errors);
        Assert.Contains("msprt.NoValidLooks", t.Errors);
        Assert.Equal("srm.NoObservations", s.Srm.Error);
        Assert.False(s.Srm.Fired);
        Assert.NotEmpty(SnapshotJson.ToJson(s));
    }

    [Fact]
    public void Compute_ContinuousEmptyState_ReportsPosteriorErrors()
    {
        var shape = Shape(MetricKind.Continuous);
        var s = SnapshotCalculator.Compute(ExperimentState.For(shape), shape, seed: 3);
        Assert.All(s.Arms, a => Assert.Contains(a.Errors, e => e.StartsWith("posterior.")));
        Assert.Contains("pbest.PosteriorMissing", s.Errors);
        Assert.True(double.IsNaN(s.Arms[0].ProbabilityBest));
        Assert.Contains(s.Tests[0].Errors, e => e.StartsWith("welch."));
    }

    [Fact]
    public void Compute_ZeroVariance_ReportsErrorCodes()
    {
        var continuous = Shape(MetricKind.Continuous);
        var state = ExperimentState.For(continuous);
        state.Apply(Range(0, 0, 10, Arm("control", 100, 0, 500, 2500), Arm("treatment", 100, 0, 500, 2500)));
        var s = SnapshotCalculator.Compute(state, continuous, seed: 3);
        Assert.All(s.Arms, a => Assert.Contains("moments.ZeroVariance", a.Errors));
        Assert.Contains(s.Tests[0].Errors, e => e.StartsWith("welch."));

        var binary = Shape();
        var none = ExperimentState.For(binary);
        none.Apply(Range(0, 0, 10, Arm("control", 100, 0), Arm("treatment", 100, 0)));
        var b = SnapshotCalculator.Compute(none, binary, seed: 3);
        Assert.Contains("z.ZeroVariance", b.Tests[0].Errors);
        Assert.Contains("msprt.NoValidLooks", b.Tests[0].Errors);
    }

    [Fact]
    public void Compute_ContinuousWithCovariate_CupedShrinksIntervalAndStaysUnbiased()
    {
        var shape = Shape(MetricKind.Continuous);
        var state = Simulation.Run(shape, [0, 0.1], [0.5, 0.5], 20_000, seed: 5, covariate: true);
        var t = Assert.Single(SnapshotCalculator.Compute(state, shape, seed: 9).Tests);
        Assert.Equal("welch-t", t.Test);
        Assert.InRange(t.CupedVarianceReduction, 0.8, 0.9);
        var rawWidth = t.Difference.Upper - t.Difference.Lower;
        var cupedWidth = t.CupedDifference.Upper - t.CupedDifference.Lower;
        Assert.True(cupedWidth < 0.5 * rawWidth, $"{cupedWidth} vs {rawWidth}");
        Assert.InRange(0.1, t.CupedDifference.Lower, t.CupedDifference.Upper);
        Assert.True(t.CupedPValue < t.PValue);
    }

    [Fact]
    public void Compute_Bandit_AllocationFavoursBestArmAndSkipsSrm()
    {
        var shape = Shape(MetricKind.Binary, ExperimentKind.Bandit, "a", "b", "c");
        var state = Simulation.Run(shape, [0.05, 0.05, 0.10], [1, 1, 1], 6_000, seed: 13);
        var s = SnapshotCalculator.Compute(state, shape, seed: 21);
        var allocation = s.Arms.Select(a => a.Allocation!.Value).ToArray();
        Assert.Equal(1.0, allocation.Sum(), 6);
        Assert.True(allocation[2] > 0.8, string.Join(", ", allocation));
        Assert.All(allocation, a => Assert.True(a >= 0.01 - 1e-12));
        Assert.Equal("srm.NotApplicableToBandit", s.Srm.Error);
    }

    [Fact]
    public void Compute_SeveralTreatments_HolmAndBhAdjustUpward()
    {
        var shape = Shape(MetricKind.Binary, ExperimentKind.Fixed, "c", "t1", "t2", "t3");
        var state = Simulation.Run(shape, [0.10, 0.11, 0.12, 0.10], [1, 1, 1, 1], 20_000, seed: 17);
        var s = SnapshotCalculator.Compute(state, shape, seed: 2);
        Assert.Equal(3, s.Tests.Count);
        Assert.All(s.Tests, t =>
        {
            Assert.True(t.HolmPValue >= t.PValue - 1e-15);
            Assert.True(t.BhPValue >= t.PValue - 1e-15);
            Assert.True(t.BhPValue <= t.HolmPValue + 1e-15);
        });
    }

    [Fact]
    public void Compute_SameInputsAndSeed_SameJson()
    {
        var shape = Shape();
        var state = Simulation.Run(shape, [0.1, 0.11], [0.5, 0.5], 4_000, seed: 19);
        var a = SnapshotJson.ToJson(SnapshotCalculator.Compute(state, shape, 5));
        var b = SnapshotJson.ToJson(SnapshotCalculator.Compute(ExperimentState.FromBytes(state.ToBytes()), shape, 5));
        Assert.Equal(a, b);
        Assert.NotEqual(a, SnapshotJson.ToJson(SnapshotCalculator.Compute(state, shape, 6)));
    }
}
