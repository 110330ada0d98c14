using System.Text;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Privacy.Pseudonymization;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Tests.Rounds;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>
/// The actor runtime's logic without actors — a partition planning rounds of <see cref="UserWork"/> and one
/// <see cref="UserWorker"/> per user answering them in any order, some leaving memory after checkpoints — against the
/// single-threaded <see cref="UserShard"/> on the same log with checkpoints at the same offsets (<see cref="RoundsScenario"/>).
/// </summary>
public sealed class PartitionRoundsTests
{
    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(2, 37, false)]
    [InlineData(3, 500, true)]
    [InlineData(4, 4_000, true)]
    public void Rounds_AnyBatchingAndAnswerOrder_EqualUserShard(int seed, int meanBatch, bool pseudonymize)
    {
        using var pseudonymizer = pseudonymize ? UserIdPseudonymizer.FromOptions(new PseudonymizationOptions(), _ => []) : null;
        var options = RoundsScenario.Options(pseudonymizer);
        var log = RoundsScenario.Log(seed, 12_000);
        var (ends, checkpoints) = RoundsScenario.Batching(log.Count, meanBatch, seed);

        var rng = new Random(seed);
        var processor = new UserProcessor(options, RoundsScenario.Catalog);
        var workers = new Dictionary<string, UserWorker>(StringComparer.Ordinal);
        var store = new RoundsScenario.Store();
        var rounds = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, Answer, Passivate);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), rounds);

        // Users answer in any order; each worker sees only its own work.
        IReadOnlyList<UserWorkResult> Answer(PartitionRound round, long? _) => round.Work.OrderBy(_ => rng.Next()).Select(w => Worker(w.Key).Run(w)).ToList();

        // Passivation: some clean users leave memory and reload their committed row on their next work.
        void Passivate()
        {
            foreach (var key in workers.Where(kv => !kv.Value.DirtySinceCheckpoint && rng.Next(3) == 0).Select(kv => kv.Key).ToList()) workers.Remove(key);
        }

        UserWorker Worker(string key)
        {
            if (workers.TryGetValue(key, out var w)) return w;
            w = new UserWorker(key, processor, () => RoundsScenario.Experiments);
            w.Restore(store.Rows.GetValueOrDefault(key));
            return workers[key] = w;
        }
    }

    [Fact]
    public void Plan_UserWithTimerDueAndNoEvents_GetsATickAtTheRoundsWatermark()
    {
        var options = RoundsScenario.Options(null);
        var rounds = new PartitionRounds(0, options, experiments: false);
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        rounds.Restore(null, [new EntityTimer("idle", t0 + 1_000)]);
        var round = rounds.Plan([Record(0, "busy", t0 + 5_000)], checkpoint: false);
        Assert.Equal(["busy", "idle"], round.Work.Select(w => w.Key));
        var tick = round.Work[1];
        Assert.Empty(tick.Events);
        Assert.Equal(t0 + 5_000, tick.WatermarkEndMs);
        var busy = Assert.Single(round.Work[0].Events);
        Assert.Equal((long.MinValue, t0 + 5_000), (busy.WatermarkBeforeMs, busy.WatermarkAfterMs));
    }

    [Fact]
    public void Complete_WrongNumberOfResults_IsRefusedWithTheCounts()
    {
        var rounds = new PartitionRounds(0, RoundsScenario.Options(null), experiments: false);
        var round = rounds.Plan([Record(0, "u", 1_700_000_000_000)], checkpoint: false);
        var error = Assert.Throws<ArgumentException>(() => rounds.Complete(round, []));
        Assert.Contains("1 work items but 0 results", error.Message);
    }

    private static InputRecord Record(long offset, string user, long ts) => new("clickstream", 0, offset, Encoding.UTF8.GetBytes(user),
        Encoding.UTF8.GetBytes($$"""{"event_id":"e{{offset}}","user_id":"{{user}}","type":"click","ts":{{ts}}}"""), ts);
}
