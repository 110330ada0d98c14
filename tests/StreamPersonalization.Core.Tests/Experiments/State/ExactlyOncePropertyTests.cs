using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Core.Tests.Experiments.State;

/// <summary>
/// Delivery is at-least-once and may redeliver or deliver a later range early, but each partition's ranges are
/// eventually delivered in order. Whatever the schedule, the arm sums, marks and applied count must equal applying
/// every range once. (The mSPRT running minimum is path-dependent by design and is not compared.)
/// </summary>
public class ExactlyOncePropertyTests
{
    private sealed record Scenario(int[][] RangeLengths, int[] Actions, int Seed)
    {
        public override string ToString() =>
            $"ranges=[{string.Join(" | ", RangeLengths.Select(r => string.Join(",", r)))}] actions=[{string.Join(",", Actions)}] seed={Seed}";
    }

    private static Gen<Scenario> Scenarios() =>
        from partitions in Gen.Choose(1, 3)
        from lengths in Gen.Choose(1, 9).ArrayOf().Select(a => a.Take(6).ToArray()).ArrayOf().Select(a => a.Take(partitions).ToArray())
        from actions in Gen.Choose(0, 999).ArrayOf()
        from seed in Gen.Choose(0, 1_000_000)
        select new Scenario(lengths, actions, seed);

    [Fact]
    public void Apply_AnyRedeliverySchedule_EqualsApplyingEachRangeOnce()
    {
        var property = Prop.ForAll(Scenarios().ToArbitrary(), scenario =>
        {
            var ranges = BuildRanges(scenario);
            var reference = Deltas.NewState();
            foreach (var partition in ranges)
                foreach (var d in partition) Assert.Equal(ApplyOutcome.Applied, reference.Apply(d));

            var state = Deltas.NewState();
            var next = new int[ranges.Length];
            foreach (var action in scenario.Actions)
            {
                if (ranges.Length == 0) break;
                var p = action % ranges.Length;
                var r = ranges[p];
                switch ((action / ranges.Length) % 4)
                {
                    case 0 or 1 when next[p] < r.Length:
                        Assert.Equal(ApplyOutcome.Applied, state.Apply(r[next[p]]));
                        next[p]++;
                        break;
                    case 2 when next[p] > 0:
                        Assert.Equal(ApplyOutcome.Duplicate, state.Apply(r[action % next[p]]));
                        break;
                    case 3 when next[p] + 1 < r.Length:
                        Assert.Equal(ApplyOutcome.Gap, state.Apply(r[next[p] + 1 + action % (r.Length - next[p] - 1)]));
                        break;
                }
            }
            for (var p = 0; p < ranges.Length; p++)
                for (; next[p] < ranges[p].Length; next[p]++)
                {
                    Assert.Equal(ApplyOutcome.Applied, state.Apply(ranges[p][next[p]]));
                    Assert.Equal(ApplyOutcome.Duplicate, state.Apply(ranges[p][next[p]]));
                }

            Assert.Equal(reference.Arms, state.Arms);
            Assert.Equal(reference.Marks, state.Marks);
            Assert.Equal(reference.Sequence, state.Sequence);
        });
        Check.QuickThrowOnFailure(property);
    }

    /// <summary>Contiguous ranges per partition with integer-valued sums, so float addition order cannot matter.</summary>
    private static ExperimentDelta[][] BuildRanges(Scenario s)
    {
        var rng = new Random(s.Seed);
        return s.RangeLengths.Select((lengths, p) =>
        {
            long offset = 0;
            return lengths.Select(len =>
            {
                var from = offset;
                offset += len;
                return Deltas.Range(p, from, offset,
                    new ArmDelta("control", rng.Next(0, 50), rng.Next(0, 5), rng.Next(0, 100), rng.Next(0, 1000), rng.Next(0, 20), rng.Next(0, 400), rng.Next(0, 200)),
                    new ArmDelta("treatment", rng.Next(0, 50), rng.Next(0, 5), rng.Next(0, 100), rng.Next(0, 1000), rng.Next(0, 20), rng.Next(0, 400), rng.Next(0, 200)));
            }).ToArray();
        }).ToArray();
    }
}
