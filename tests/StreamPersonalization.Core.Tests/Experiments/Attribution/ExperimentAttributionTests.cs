using System.Globalization;
using System.Text.Json;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Core.Tests.Shards;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Core.Tests.Experiments.Attribution;

/// <summary>
/// User-side attribution: exposures and conversions folded in user entities become per-variant deltas whose
/// totals equal a direct computation over the events, and crash/replay with re-published ranges still counts
/// every user exactly once in the experiment entity.
/// </summary>
public sealed class ExperimentAttributionTests
{
    private const int Partitions = 2;

    // A day of grace: the generator's out-of-order lag (≤ 60 s) never makes an event late here.
    private static readonly ShardOptions Options = new() { Sessions = new SessionOptions { Grace = TimeSpan.FromDays(1) } };
    private static readonly SegmentCatalog Segments = SegmentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "segments.yaml"));
    private static readonly ExperimentCatalog Experiments = ExperimentCatalogLoader.LoadFile(Path.Combine(RepoPaths.Root, "config", "experiments.yaml"));

    private static PartitionedLog Log(long seed) =>
        new(new ClickstreamGenerator(new ClickstreamGeneratorOptions { Seed = seed, Users = 400, BadRecordShare = 0.01 }).Generate(30_000), Partitions);

    [Fact]
    public void Deltas_GeneratedLog_EqualDirectComputationOverEvents()
    {
        var log = Log(seed: 4);
        var state = ExperimentState.For(ExperimentShape.From(Experiments["exp-checkout-1"]));
        for (var p = 0; p < Partitions; p++)
        {
            var shard = new UserShard(p, Options, Segments, new ListShardOutput(), experiments: Experiments);
            foreach (var (input, _) in log.Partitions[p]) shard.Process(input);
            foreach (var d in shard.ExperimentDeltas!.Take(p, log.Partitions[p].Count)) Assert.Equal(ApplyOutcome.Applied, state.Apply(d));
        }
        var expected = DirectTotals(log);
        Assert.True(expected["control"].Users > 50 && expected["treatment"].Users > 50, "the generator should expose many users");
        Assert.True(expected["treatment"].Conversions > 10, "some exposed users should buy");
        foreach (var (variant, e) in expected)
        {
            var arm = state.Arm(variant);
            Assert.Equal(e.Users, arm.Users);
            Assert.Equal(e.Conversions, arm.Conversions);
            AssertClose(e.ValueSum, arm.ValueSum, $"{variant} Σy");
            AssertClose(e.ValueSumSquares, arm.ValueSumSquares, $"{variant} Σy²");
            AssertClose(e.CovariateSum, arm.CovariateSum, $"{variant} Σx");
            AssertClose(e.CovariateSumSquares, arm.CovariateSumSquares, $"{variant} Σx²");
            AssertClose(e.CrossSum, arm.CrossSum, $"{variant} Σxy");
            Assert.Equal(e.Histogram, arm.Histogram);
        }
    }

    [Theory]
    [InlineData(7, 1_301)]
    [InlineData(8, 3_907)]
    public void Deltas_WithCrashesAndRepublishedRanges_CountEveryUserOnce(long seed, int crashEvery)
    {
        var log = Log(seed);
        var clean = ExperimentState.For(ExperimentShape.From(Experiments["exp-checkout-1"]));
        var crashed = ExperimentState.For(ExperimentShape.From(Experiments["exp-checkout-1"]));
        var random = new Random((int)seed);
        for (var p = 0; p < Partitions; p++)
        {
            var shard = new UserShard(p, Options, Segments, new ListShardOutput(), experiments: Experiments);
            foreach (var (input, _) in log.Partitions[p]) shard.Process(input);
            foreach (var d in shard.ExperimentDeltas!.Take(p, log.Partitions[p].Count)) clean.Apply(d);

            // Checkpoints commit entity state and the range's deltas together (the outbox); crashes lose the rest.
            var store = new MemoryPartitionState();
            var outbox = new List<ExperimentDelta>();
            Restart();
            var offset = 0;
            var sinceCrash = 0;
            var records = log.Partitions[p];
            while (offset < records.Count)
            {
                shard.Process(records[offset].Input);
                offset++;
                sinceCrash++;
                if (random.Next(150) == 0 || offset == records.Count)
                {
                    var deltas = shard.ExperimentDeltas!.Take(p, offset);
                    store.Commit(shard, offset);
                    outbox.AddRange(deltas);
                }
                if (sinceCrash >= crashEvery && offset < records.Count)
                {
                    Restart();
                    offset = (int)store.NextOffset;
                    sinceCrash = 0;
                }
            }
            // The relay publishes each outbox row at least once: every range goes out twice here.
            foreach (var d in outbox.Concat(outbox)) crashed.Apply(d);

            void Restart() => shard = store.Restore(p, Options, Segments, new ListShardOutput(), Experiments);
        }
        foreach (var variant in new[] { "control", "treatment" })
        {
            var (a, b) = (clean.Arm(variant), crashed.Arm(variant));
            Assert.Equal(a.Users, b.Users);
            Assert.Equal(a.Conversions, b.Conversions);
            AssertClose(a.ValueSum, b.ValueSum, $"{variant} Σy");
            AssertClose(a.CovariateSum, b.CovariateSum, $"{variant} Σx");
            AssertClose(a.CrossSum, b.CrossSum, $"{variant} Σxy");
            Assert.Equal(a.Histogram, b.Histogram);
            Assert.Equal(a.Users, b.Histogram.Total);
        }
        Assert.True(clean.Arm("control").Users > 50);
    }

    private sealed record Totals(long Users, long Conversions, double ValueSum, double ValueSumSquares, double CovariateSum, double CovariateSumSquares, double CrossSum, ValueHistogram Histogram);

    /// <summary>
    /// Independent computation over the valid events in log order: covariate = Σ w·2^(−(max(t, latest prior) − tᵢ)/h)
    /// over the user's prior events; a user counts once per variant; purchases after exposure convert and add value;
    /// the histogram bins the users' final value totals.
    /// </summary>
    private static Dictionary<string, Totals> DirectTotals(PartitionedLog log)
    {
        var weights = Options.Engagement.Weights;
        var halfLife = Options.Engagement.HalfLife.TotalMilliseconds;
        var users = new Dictionary<string, List<(long Ts, string Type)>>();
        var exposures = new Dictionary<(string User, string Variant), (long At, double X, bool Converted, double Value)>();
        foreach (var partition in log.Partitions)
        {
            foreach (var (_, record) in partition)
            {
                if (record.Label is not null) continue;
                using var doc = JsonDocument.Parse(record.Value);
                var r = doc.RootElement;
                var user = r.GetProperty("user_id").GetString()!;
                var type = r.GetProperty("type").GetString()!;
                var ts = DateTimeOffset.Parse(r.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
                if (!users.TryGetValue(user, out var prior)) users[user] = prior = [];
                if (type == "exposure" && r.GetProperty("experiment_id").GetString() == "exp-checkout-1")
                {
                    var variant = r.GetProperty("variant").GetString()!;
                    if (!exposures.ContainsKey((user, variant)))
                    {
                        var at = prior.Count == 0 ? ts : Math.Max(ts, prior.Max(e => e.Ts));
                        var x = prior.Sum(e => Weight(e.Type) * Math.Pow(2, -(at - e.Ts) / halfLife));
                        exposures[(user, variant)] = (ts, x, false, 0);
                    }
                }
                if (type == "purchase")
                {
                    var value = r.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
                    foreach (var key in exposures.Keys.Where(k => k.User == user).ToList())
                    {
                        var e = exposures[key];
                        if (e.At <= ts) exposures[key] = (e.At, e.X, true, e.Value + value);
                    }
                }
                prior.Add((ts, type));
            }
        }
        double Weight(string type) => weights.TryGetValue(ReferenceTypes.Contains(type) ? type : "custom", out var w) ? w : 0;
        return exposures.GroupBy(kv => kv.Key.Variant).ToDictionary(g => g.Key, g => new Totals(
            g.Count(), g.Count(kv => kv.Value.Converted), g.Sum(kv => kv.Value.Value), g.Sum(kv => kv.Value.Value * kv.Value.Value),
            g.Sum(kv => kv.Value.X), g.Sum(kv => kv.Value.X * kv.Value.X), g.Sum(kv => kv.Value.X * (kv.Value.Converted ? 1 : 0)),
            ValueHistogram.Of(g.Select(kv => kv.Value.Value))));
    }

    private static readonly HashSet<string> ReferenceTypes =
        ["page_view", "click", "scroll", "add_to_cart", "purchase", "video_play", "form_submit", "exposure", "conversion", "consent", "forget"];

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");
}
