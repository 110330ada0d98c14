using StreamPersonalization.Core.Experiments.Attribution;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.Attribution;

public sealed class ExperimentDeltaBuilderTests
{
    [Fact]
    public void Take_ValueMovesOverManyCheckpoints_HistogramEqualsHistogramOfFinalValues()
    {
        // Users get exposed, then their totals move up and down (refunds cross zero, some return to exactly 0);
        // deltas are taken at random checkpoints and applied. Reference: the histogram of the users' final totals.
        var rng = new Random(31);
        var builder = new ExperimentDeltaBuilder();
        var state = ExperimentState.For(new ExperimentShape("exp-h", ["control", "treatment"], [1, 1],
            StreamPersonalization.Core.Experiments.Definitions.ExperimentKind.Fixed, StreamPersonalization.Core.Experiments.Definitions.MetricKind.Continuous));
        var users = new List<ExperimentExposure>();
        long offset = 0;
        for (var step = 0; step < 20_000; step++)
        {
            if (users.Count < 50 || rng.NextDouble() < 0.2)
            {
                var e = new ExperimentExposure("exp-h", rng.Next(2) == 0 ? "control" : "treatment", step, rng.NextDouble());
                builder.Exposed(e);
                users.Add(e);
            }
            else
            {
                var e = users[rng.Next(users.Count)];
                var roll = rng.NextDouble();
                var to = roll < 0.1 ? 0 : roll < 0.2 ? -e.Value : e.Value + Math.Round(Math.Exp(rng.NextDouble() * 8) - 20, 2);
                if (to == e.Value) continue;
                var from = e.Value;
                e.Value = to;
                builder.ValueChanged(e, from, to, continuousMetric: true);
            }
            if (rng.NextDouble() < 0.01)
                foreach (var d in builder.Take(0, ++offset)) Assert.Equal(ApplyOutcome.Applied, state.Apply(d));
        }
        foreach (var d in builder.Take(0, ++offset)) state.Apply(d);

        foreach (var variant in new[] { "control", "treatment" })
        {
            var finals = users.Where(u => u.VariantId == variant).Select(u => u.Value).ToArray();
            var arm = state.Arm(variant);
            Assert.Equal(ValueHistogram.Of(finals), arm.Histogram);
            Assert.Equal(arm.Users, arm.Histogram.Total);
            Assert.True(arm.Histogram.Count > 20, $"{variant}: the values should spread over many bins, got {arm.Histogram}");
            Assert.Contains(arm.Histogram.Bins, b => b.Bin < 0);
        }
    }

    [Fact]
    public void Take_MoveWithinOneBin_LeavesHistogramUnchanged()
    {
        var builder = new ExperimentDeltaBuilder();
        var e = new ExperimentExposure("exp-h", "control", 0, 0);
        builder.Exposed(e);
        builder.ValueChanged(e, 0, 1.0, true);
        builder.ValueChanged(e, 1.0, 1.1, true);
        var arm = Assert.Single(Assert.Single(builder.Take(0, 1)).Arms);
        Assert.Equal(ValueHistogram.From([new(ValueHistogram.BinOf(1.1), 1)]), arm.Histogram);
        builder.ValueChanged(e, 1.1, 1.15, true);
        Assert.Equal(ValueHistogram.Empty, Assert.Single(Assert.Single(builder.Take(0, 2)).Arms).Histogram);
    }
}
