using System.Text;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>The two rules that let a user actor run without the partition's full watermark history.</summary>
public sealed class UserProcessorTests
{
    private const long Min = 60_000;
    private static readonly long T = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly ShardOptions Options = new();   // grace 5 min, gap 30 min
    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.Parse("""
        version: 1
        segments:
          - id: active
            rule: "total_events >= 1 && days_since_last_session <= 1"
        """, "test");

    private static InputRecord Record(long offset, string user, long ts, string eventId) => new("clickstream", 0, offset, Encoding.UTF8.GetBytes(user),
        Encoding.UTF8.GetBytes($$"""{"event_id":"{{eventId}}","user_id":"{{user}}","type":"click","ts":{{ts}}}"""), ts);

    [Fact]
    public void Timer_FiredAtALaterWatermark_LeavesTheSameState()
    {
        var midnight = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        byte[] Run(long otherUserAt)
        {
            var shard = new UserShard(0, Options, Catalog, new ListShardOutput());
            shard.Process(Record(0, "u", midnight - 2 * Min, "a"));
            Assert.Equal(midnight, shard.Peek("u")!.ScheduledDueMs);   // the daily re-evaluation
            shard.Process(Record(1, "v", otherUserAt, "b"));         // moves the watermark past it: u's timer fires
            return UserStateSerializer.Serialize(shard.Peek("u")!, Catalog);
        }
        // u's remembered id (23:58) must not depend on whether the watermark that fired the timer was 00:00 or 00:04
        // (pruning by the watermark would keep it in one run and drop it in the other; a user actor cannot know which).
        Assert.Equal(Convert.ToHexString(Run(midnight)), Convert.ToHexString(Run(midnight + 4 * Min)));
    }

    [Fact]
    public void Process_DuplicateWithALaterTimestamp_MovesTheWatermark()
    {
        var output = new ListShardOutput();
        var shard = new UserShard(0, Options, Catalog, output);
        shard.Process(Record(0, "u", T, "a"));
        shard.Process(Record(1, "u", T + 10 * Min, "a"));   // same id, later ts: a duplicate, and the partition's clock moves
        Assert.Equal(RejectReason.DuplicateEvent, Assert.IsType<DeadLetter>(output.Records[^1]).Reason);
        Assert.Equal(T + 10 * Min, shard.WatermarkMs);
        shard.Process(Record(2, "v", T + 4 * Min, "c"));      // 6 min behind: late under a 5 min grace
        Assert.Equal(RejectReason.LateEvent, Assert.IsType<DeadLetter>(output.Records[^1]).Reason);
    }
}
