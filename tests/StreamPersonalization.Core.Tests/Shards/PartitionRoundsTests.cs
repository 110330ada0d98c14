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
        var workers = new Workers(processor, rng);
        var store = new RoundsScenario.Store();
        var rounds = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, (round, epoch, _) => workers.Answer(round, epoch, store), workers.Passivate);
        RoundsScenario.AssertSame(RoundsScenario.RunShard(log, options, ends, checkpoints), rounds);
    }

    [Theory]
    [InlineData(11, 1)]
    [InlineData(12, 60)]
    [InlineData(13, 900)]
    public void Rounds_WithPoisonRecords_RewindAndReplay_EqualUserShardRejectingThem(int seed, int meanBatch)
    {
        var log = RoundsScenario.Log(seed, 8_000);
        var (ends, checkpoints) = RoundsScenario.Batching(log.Count, meanBatch, seed);
        // Poison: accepted events of users spread over the log, two of them in one batch.
        var ids = new[] { 900, 2_500, 2_501, 4_000, 7_700 }.Select(i => EventIdNear(log, i)).ToList();
        var options = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(ids) };
        var rng = new Random(seed);
        var workers = new Workers(new UserProcessor(options, RoundsScenario.Catalog), rng);
        var store = new RoundsScenario.Store();
        var found = new Dictionary<long, PoisonRecordException>();
        var rounds = RoundsScenario.RunRounds(log, options, ends, checkpoints, store, (round, epoch, _) => workers.Answer(round, epoch, store), workers.Passivate, found);

        Assert.True(found.Count >= 3, $"at least three of the chosen events should have been applied, and thrown ({found.Count})");
        Assert.All(found.Values, e => Assert.Contains(ids, id => e.Detail.Contains($"event {id} ", StringComparison.Ordinal)));
        var reference = RoundsScenario.RunShard(log, RoundsScenario.Options(null), ends, checkpoints, found);   // never saw the fault: rejects the records up front
        RoundsScenario.AssertSame(reference, rounds);
        Assert.Equal(found.Count, rounds.Outputs.OfType<DeadLetter>().Count(d => d.Reason == Core.Ingest.RejectReason.ProcessingError));
    }

    [Fact]
    public void Plan_WhileARoundIsInFlightOrAfterPoison_IsRefusedUntilRestore()
    {
        var options = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(["e1"]) };
        var rounds = new PartitionRounds(0, options, experiments: false);
        var processor = new UserProcessor(options, RoundsScenario.Catalog);
        var round = rounds.Plan([Record(0, "u", 1_700_000_000_000)], checkpoint: false);
        Assert.Contains("in flight", Assert.Throws<InvalidOperationException>(() => rounds.Plan([], false)).Message);
        rounds.Complete(round, [new UserWorker("u", processor, null).Run(round.Work[0])]);

        var poisoned = rounds.Plan([Record(1, "u", 1_700_000_001_000), Record(2, "v", 1_700_000_002_000)], checkpoint: false);
        var outcome = rounds.Complete(poisoned, poisoned.Work.Select(w => new UserWorker(w.Key, processor, null).Run(w)).ToList());
        Assert.Equal(1, outcome.Poison!.PoisonOffset);
        Assert.Empty(outcome.Outputs);
        Assert.Contains("offset 1 was poison", Assert.Throws<InvalidOperationException>(() => rounds.Plan([], false)).Message);

        rounds.Restore(null, []);
        var abandoned = rounds.Plan([Record(3, "u", 1_700_000_003_000)], checkpoint: false);
        rounds.Abandon(abandoned, "revoked");
        Assert.Contains("abandoned (revoked)", Assert.Throws<InvalidOperationException>(() => rounds.Plan([], false)).Message);
        Assert.Throws<InvalidOperationException>(() => rounds.Complete(abandoned, []));
        rounds.Restore(null, []);
        Assert.NotNull(rounds.Plan([], false));
    }

    [Fact]
    public void Complete_SeveralPoisonedUsers_ReportsTheLowestOffset()
    {
        var options = RoundsScenario.Options(null) with { FaultInjector = new ThrowOnEventIds(["e4", "e2"]) };
        var rounds = new PartitionRounds(0, options, experiments: false);
        var processor = new UserProcessor(options, RoundsScenario.Catalog);
        var round = rounds.Plan([Record(0, "a", 1_700_000_000_000), Record(1, "b", 1_700_000_000_100), Record(2, "c", 1_700_000_000_200), Record(3, "d", 1_700_000_000_300), Record(4, "a", 1_700_000_000_400)], false);
        // Answers in reverse: the first poisoned answer seen is a's (offset 4), the lowest is c's (offset 2).
        var outcome = rounds.Complete(round, round.Work.Reverse().Select(w => new UserWorker(w.Key, processor, null).Run(w)).ToList());
        Assert.Equal((2L, "c"), (outcome.Poison!.PoisonOffset, outcome.Poison.Key));
    }

    /// <summary>One plain worker per user answering rounds in any order; a new epoch makes every worker reload.</summary>
    private sealed class Workers(UserProcessor processor, Random rng)
    {
        private readonly Dictionary<string, (UserWorker Worker, long Epoch)> _workers = new(StringComparer.Ordinal);

        public IReadOnlyList<UserWorkResult> Answer(PartitionRound round, long epoch, RoundsScenario.Store store) =>
            round.Work.OrderBy(_ => rng.Next()).Select(w => Worker(w.Key, w.Continues, epoch, store).Run(w)).ToList();

        // Passivation: some clean users leave memory and reload their committed row on their next work.
        public void Passivate()
        {
            foreach (var key in _workers.Where(kv => !kv.Value.Worker.DirtySinceCheckpoint && rng.Next(3) == 0).Select(kv => kv.Key).ToList()) _workers.Remove(key);
        }

        private UserWorker Worker(string key, bool continues, long epoch, RoundsScenario.Store store)
        {
            if (_workers.TryGetValue(key, out var known) && known.Epoch == epoch && (known.Worker.Entity is not null || known.Worker.DirtySinceCheckpoint)) return known.Worker;
            Assert.False(continues, $"{key} continues state since the checkpoint, but its worker is gone");
            var w = new UserWorker(key, processor, () => RoundsScenario.Experiments);
            w.Restore(store.Rows.GetValueOrDefault(key));
            _workers[key] = (w, epoch);
            return w;
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

    /// <summary>The id of the first keyed page view at or after index <paramref name="from"/>.</summary>
    private static string EventIdNear(List<InputRecord> log, int from) =>
        log.Skip(from).Where(r => r.Key is not null).Select(RoundsScenario.PageViewId).OfType<string>().FirstOrDefault()
        ?? throw new InvalidOperationException($"no page_view after {from}");

    private static InputRecord Record(long offset, string user, long ts) => new("clickstream", 0, offset, Encoding.UTF8.GetBytes(user),
        Encoding.UTF8.GetBytes($$"""{"event_id":"e{{offset}}","user_id":"{{user}}","type":"click","ts":{{ts}}}"""), ts);
}
