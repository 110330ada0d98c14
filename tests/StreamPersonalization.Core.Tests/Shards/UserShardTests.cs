using System.Text;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Tests.Shards;

public sealed class UserShardTests
{
    private const long Min = 60_000;
    private const long DayMs = 86_400_000;
    private static readonly long D0 = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly long T = D0 + 12 * 60 * Min;   // 2026-03-01T12:00Z
    private static readonly ShardOptions Options = new();   // Grace 5 min, Gap 30 min, re-evaluation daily

    // "active"-like: seen within the last day (whole days since the latest event ≤ 1).
    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.Parse("""
        version: 1
        segments:
          - id: active
            rule: "total_events >= 1 && days_since_last_session <= 1"
          - id: buyer
            rule: "purchases_30d >= 1"
        """, "test");

    private sealed class Feeder(UserShard shard)
    {
        private long _offset;
        public InputRecord Send(string user, long ts, string type = "click", string? key = null, string? raw = null)
        {
            var json = raw ?? $$"""{"user_id":"{{user}}","type":"{{type}}","ts":{{ts}}}""";
            var record = new InputRecord("clickstream", 0, _offset++, Encoding.UTF8.GetBytes(key ?? user), Encoding.UTF8.GetBytes(json), ts);
            shard.Process(record);
            return record;
        }
    }

    private static (UserShard, ListShardOutput, Feeder) NewShard(IEntityStateSource? source = null)
    {
        var output = new ListShardOutput();
        var shard = new UserShard(0, Options, Catalog, output, source);
        return (shard, output, new Feeder(shard));
    }

    [Fact]
    public void Process_LateEvent_GoesToDeadLetterAndLeavesStateUnchanged()
    {
        var (shard, output, feed) = NewShard();
        feed.Send("u1", T);
        feed.Send("u2", T + 10 * Min);   // watermark T+10 min; late threshold T+5 min
        var before = UserStateSerializer.Serialize(shard.Peek("u1")!, Catalog);
        var outputsBefore = output.Records.Count;

        var late = feed.Send("u1", T + 5 * Min - 1, "purchase");
        var dead = Assert.IsType<DeadLetter>(Assert.Single(output.Records.Skip(outputsBefore)));
        Assert.Equal(RejectReason.LateEvent, dead.Reason);
        Assert.Same(late, dead.Source);
        Assert.Equal("clickstream/0@2", dead.RecordId);
        Assert.Equal(before, UserStateSerializer.Serialize(shard.Peek("u1")!, Catalog));
        Assert.Equal(T + 10 * Min, shard.WatermarkMs);
        Assert.Equal(1, shard.Counters.LateEvents);
        Assert.Equal(1, shard.Counters.Rejected[(int)RejectReason.LateEvent]);

        // Exactly watermark − grace is still accepted.
        feed.Send("u1", T + 5 * Min, "purchase");
        Assert.Equal(2, shard.Peek("u1")!.Engagement.TotalEvents);
        Assert.Equal(1, shard.Counters.LateEvents);
    }

    [Fact]
    public void AdvanceWatermark_OtherUsersEvents_MakeIdleUserExitActiveByReevaluation()
    {
        var (shard, output, feed) = NewShard();
        feed.Send("u1", T);
        List<SegmentTransition> U1() => output.Records.OfType<SegmentTransition>().Where(t => t.UserId == "u1").ToList();
        var enter = Assert.Single(U1());
        Assert.Equal(("active", true, T, EvaluationCause.Event), (enter.SegmentId, enter.Entered, enter.AtMs, enter.Cause));

        // u1 stays silent. Its latest event is 2026-03-01T12:00; re-evaluations run at midnights:
        // 03-02 00:00 → 0 days, 03-03 00:00 → 1 day (still active), 03-04 00:00 → floor(2.5) = 2 → exit.
        feed.Send("u2", T + 1 * DayMs);
        feed.Send("u2", T + 2 * DayMs);
        Assert.Single(U1());
        feed.Send("u2", D0 + 3 * DayMs - 1);
        Assert.Single(U1());
        feed.Send("u2", D0 + 3 * DayMs);
        var transitions = U1();
        Assert.Equal(2, transitions.Count);
        var exit = transitions[1];
        Assert.Equal(("active", false, D0 + 3 * DayMs, EvaluationCause.Reevaluation), (exit.SegmentId, exit.Entered, exit.AtMs, exit.Cause));
        Assert.Equal(1, shard.Peek("u1")!.Engagement.TotalEvents);   // no new events of u1
        // u1's first session (one event) also closed, at T + 30 + 5 min.
        var session = Assert.Single(output.Records.OfType<SessionClosedOutput>(), s => s.UserId == "u1");
        Assert.Equal(T + 35 * Min, session.ClosedAtMs);
        // Sequence numbers of u1: enter 0, session 1, exit 2.
        Assert.Equal([0L, 2L], transitions.Select(t => t.Sequence));
        Assert.Equal(1, session.Sequence);
    }

    [Fact]
    public void TakeDirty_ReturnsEachDirtyEntityOnce_ThenNothing()
    {
        var (shard, _, feed) = NewShard();
        feed.Send("u1", T);
        feed.Send("u2", T + 1);
        feed.Send("u1", T + 2);
        Assert.Equal(2, shard.DirtyEntities);
        var writes = shard.TakeDirty();
        Assert.Equal(["u1", "u2"], writes.Select(w => w.Key).Order());
        var u1 = writes.Single(w => w.Key == "u1");
        Assert.Equal(T + 35 * Min, u1.NextTimerMs);   // first session due: T + 30 min gap + 5 min grace
        Assert.Equal(2, UserStateSerializer.Deserialize("u1", u1.State!, Catalog).Engagement.TotalEvents);
        Assert.Equal(0, shard.DirtyEntities);
        Assert.Empty(shard.TakeDirty());

        feed.Send("u2", T + 3);
        Assert.Equal(["u2"], shard.TakeDirty().Select(w => w.Key));
        Assert.Empty(shard.TakeDirty());
    }

    [Fact]
    public void Passivate_DropsOnlyCleanIdleEntities()
    {
        var store = new MemoryPartitionState();
        var (shard, _, feed) = NewShard(store);
        shard.CurrentTick = 1;
        feed.Send("u1", T);
        shard.CurrentTick = 10;
        feed.Send("u2", T + 1);
        store.Commit(shard, 2);              // u1, u2 clean
        feed.Send("u3", T + 2);              // u3 dirty
        Assert.Equal(3, shard.ResidentEntities);

        Assert.Equal(1, shard.Passivate(5));   // only u1 was last touched before tick 5
        Assert.Null(shard.Peek("u1"));
        Assert.NotNull(shard.Peek("u2"));

        Assert.Equal(1, shard.Passivate(long.MaxValue));   // u2; u3 is dirty and stays
        Assert.Null(shard.Peek("u2"));
        Assert.NotNull(shard.Peek("u3"));
        Assert.Equal(1, shard.ResidentEntities);

        // A passivated entity is reloaded from the store on its next event.
        feed.Send("u1", T + 3);
        Assert.Equal(2, shard.Peek("u1")!.Engagement.TotalEvents);
    }

    [Fact]
    public void ShardCounters_PersistThroughSaveAndRestore()
    {
        var (shard, _, feed) = NewShard();
        feed.Send("u1", T);
        feed.Send("u2", T + 10 * Min, "wishlist_add");
        feed.Send("u1", T, raw: "not json");
        feed.Send("u1", T + 1 * Min);                     // late (threshold T+5 min)
        feed.Send("u1", T + 11 * Min, key: "someone-else");   // key mismatch
        feed.Send("u1", T + 50 * Min);                    // closes u1's session (due T+35) and u2's (due T+45)
        var c = shard.Counters;
        Assert.Equal((6L, 3L, 1L, 1L, 2L, 3L), (c.Records, c.ValidEvents, c.LateEvents, c.CustomTypeEvents, c.SessionsClosed, c.RejectedTotal));
        Assert.Equal(1, c.Rejected[(int)RejectReason.NotJson]);
        Assert.Equal(1, c.Rejected[(int)RejectReason.KeyMismatch]);
        Assert.Equal(1, c.Rejected[(int)RejectReason.LateEvent]);

        var state = shard.SaveShardState();
        var restored = new UserShard(0, Options, Catalog, new ListShardOutput());
        restored.RestoreShardState(state);
        Assert.Equal(T + 50 * Min, restored.WatermarkMs);
        var r = restored.Counters;
        Assert.Equal((c.Records, c.ValidEvents, c.LateEvents, c.CustomTypeEvents, c.SessionsClosed, c.Transitions, c.TimersFired),
                     (r.Records, r.ValidEvents, r.LateEvents, r.CustomTypeEvents, r.SessionsClosed, r.Transitions, r.TimersFired));
        Assert.Equal(c.Rejected, r.Rejected);
        Assert.True(r.Transitions > 0 && r.TimersFired >= 2);

        restored.RestoreShardState(null);   // no state: unchanged
        Assert.Equal(6, restored.Counters.Records);
        state[0] = 9;
        var ex = Assert.Throws<InvalidDataException>(() => new UserShard(4, Options, Catalog, new ListShardOutput()).RestoreShardState(state));
        Assert.Contains("partition 4", ex.Message);
    }
}
