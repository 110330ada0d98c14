using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>
/// Sums built from per-checkpoint, per-user deltas must equal sums computed directly over the final per-user totals
/// (the reference below never looks at deltas), for both metric kinds.
/// </summary>
public class AggregateReferenceTests
{
    [Theory]
    [InlineData(MetricKind.Binary)]
    [InlineData(MetricKind.Continuous)]
    public void Apply_PerUserDeltas_EqualDirectComputationOverUsers(MetricKind metric)
    {
        const int partitions = 3, usersCount = 600;
        var rng = new Random(20261122);
        var variants = new[] { "control", "treatment" };
        var events = Enumerable.Range(0, partitions).Select(_ => new List<SimEvent>()).ToArray();
        for (var i = 0; i < 8000; i++)
        {
            var user = rng.Next(usersCount);
            var variant = variants[user % 2];
            var roll = rng.NextDouble();
            var e = roll < 0.3 ? new SimEvent(user, "expose", variant, Math.Round(rng.NextDouble() * 10, 2))
                : roll < 0.5 ? new SimEvent(user, "convert", variant, 0)
                : new SimEvent(user, "value", variant, Math.Round(rng.NextDouble() * 20 - 5, 2));
            events[user % partitions].Add(e);
        }

        var state = ExperimentState.For(Deltas.Shape(metric));
        for (var p = 0; p < partitions; p++)
            foreach (var d in new SimulatedShard(p, metric).Fold(events[p], checkpointEvery: 37))
                Assert.Equal(ApplyOutcome.Applied, state.Apply(d));

        foreach (var variant in variants)
        {
            var expected = Reference(events.SelectMany(e => e), variant, metric);
            var actual = state.Arm(variant);
            Assert.Equal(expected.Users, actual.Users);
            Assert.Equal(expected.Conversions, actual.Conversions);
            AssertClose(expected.ValueSum, actual.ValueSum);
            AssertClose(expected.ValueSumSquares, actual.ValueSumSquares);
            AssertClose(expected.CovariateSum, actual.CovariateSum);
            AssertClose(expected.CovariateSumSquares, actual.CovariateSumSquares);
            AssertClose(expected.CrossSum, actual.CrossSum);
        }
    }

    /// <summary>Final per-user totals (exposed users only; events before exposure do count toward the total they carry in).</summary>
    private static ArmAggregate Reference(IEnumerable<SimEvent> allEvents, string variant, MetricKind metric)
    {
        var finals = new Dictionary<int, (bool Exposed, double X, bool Converted, double Value)>();
        foreach (var e in allEvents)
        {
            var u = finals.GetValueOrDefault(e.User);
            finals[e.User] = e.Kind switch
            {
                "expose" when !u.Exposed => u with { Exposed = true, X = e.Amount },
                "convert" => u with { Converted = true },
                "value" => u with { Value = u.Value + e.Amount },
                _ => u,
            };
        }
        var users = finals.Where(kv => kv.Value.Exposed && (kv.Key % 2 == 0 ? "control" : "treatment") == variant).Select(kv => kv.Value).ToList();
        double Y((bool, double, bool Converted, double Value) u) => metric == MetricKind.Binary ? (u.Converted ? 1 : 0) : u.Value;
        return new(variant, users.Count, users.Count(u => u.Converted), users.Sum(u => u.Value), users.Sum(u => u.Value * u.Value),
            users.Sum(u => u.X), users.Sum(u => u.X * u.X), users.Sum(u => u.X * Y(u)));
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");
}
