using System.Collections.Frozen;
using System.Text;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Pseudonymization;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Tests.Privacy;

/// <summary>Consent, erasure, retention, per-market switches and pseudonymisation inside the user shard.</summary>
public sealed class ShardPrivacyTests
{
    private const long Min = 60_000;
    private const long DayMs = 86_400_000;
    private static readonly long T = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static readonly SegmentCatalog Catalog = SegmentCatalogLoader.Parse("""
        version: 1
        segments:
          - id: active
            rule: "total_events >= 1 && days_since_last_session <= 1"
          - id: buyer
            rule: "purchases_30d >= 1"
        """, "test");

    private static readonly ExperimentCatalog Experiments = ExperimentCatalogLoader.Parse("""
        version: 1
        experiments:
          - id: exp
            kind: fixed
            status: running
            variants: [ { id: a, weight: 1 }, { id: b, weight: 1 } ]
            primary_metric: { name: conversion, kind: binary }
            fallback_variant: a
        """, "test");

    private sealed class Feeder(UserShard shard)
    {
        private long _offset;

        public void Send(string user, long ts, string type = "click", string extra = "")
        {
            var json = $$"""{"event_id":"e{{_offset}}","user_id":"{{user}}","type":"{{type}}","ts":{{ts}}{{extra}}}""";
            shard.Process(new InputRecord("clickstream", 0, _offset++, Encoding.UTF8.GetBytes(user), Encoding.UTF8.GetBytes(json), ts));
        }

        public void Raw(string key, string json, long ts) =>
            shard.Process(new InputRecord("clickstream", 0, _offset++, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(json), ts));
    }

    private static (UserShard Shard, ListShardOutput Output, Feeder Feed) NewShard(ShardPrivacy? privacy = null, ExperimentCatalog? experiments = null)
    {
        var output = new ListShardOutput();
        var shard = new UserShard(0, new ShardOptions { Privacy = privacy ?? ShardPrivacy.Off }, Catalog, output, experiments: experiments);
        return (shard, output, new Feeder(shard));
    }

    private const string Withdrawn = ""","properties":{"personalization":"withdrawn"}""";
    private const string Granted = ""","properties":{"personalization":true}""";

    [Fact]
    public void ConsentWithdrawn_ExitsEverySegmentKeepsOnlyTheFlagAndIgnoresLaterEvents()
    {
        var (shard, output, feed) = NewShard();
        feed.Send("u1", T, "purchase", ""","value":5""");
        Assert.Equal(["active", "buyer"], output.Records.OfType<SegmentTransition>().Where(t => t.Entered).Select(t => t.SegmentId).Order());
        output.Records.Clear();

        feed.Send("u1", T + Min, "consent", Withdrawn);
        var exits = output.Records.OfType<SegmentTransition>().ToList();
        Assert.Equal(["active", "buyer"], exits.Select(t => t.SegmentId).Order());
        Assert.All(exits, t => Assert.Equal((false, EvaluationCause.ConsentWithdrawn), (t.Entered, t.Cause)));
        var user = shard.Peek("u1")!;
        Assert.True(user.ConsentWithdrawn);
        Assert.Equal((0UL, 0L, 0, 0), (user.Membership, user.Engagement.TotalEvents, user.Engagement.Days.Length, user.Sessions.Events.Length));

        output.Records.Clear();
        feed.Send("u1", T + 2 * Min, "purchase", ""","value":9""");
        feed.Send("u2", T + 3 * DayMs);   // fires every due timer of u1 too
        Assert.DoesNotContain(output.Records, o => o.Key == "u1");
        Assert.Equal(0, shard.Peek("u1")!.Engagement.TotalEvents);
        Assert.Equal(1, shard.Counters.Privacy[(int)PrivacyCounter.EventsWithoutConsent]);
        Assert.Equal(1, shard.Counters.Privacy[(int)PrivacyCounter.ConsentWithdrawn]);
    }

    [Fact]
    public void ConsentGrantedAgain_StartsFromEmptyStateLikeANewUser()
    {
        var (shard, _, feed) = NewShard();
        feed.Send("u1", T, "purchase", ""","value":5""");
        feed.Send("u1", T + Min, "consent", Withdrawn);
        feed.Send("u1", T + 2 * Min, "consent", Granted);
        feed.Send("u1", T + 3 * Min, "click");

        // Reference: a user who only ever sent the grant and the click.
        var (fresh, _, freshFeed) = NewShard();
        freshFeed.Send("u1", T + 2 * Min, "consent", Granted);
        freshFeed.Send("u1", T + 3 * Min, "click");
        var user = shard.Peek("u1")!;
        var expected = fresh.Peek("u1")!;
        Assert.False(user.ConsentWithdrawn);
        Assert.Equal(expected.Engagement.TotalEvents, user.Engagement.TotalEvents);
        Assert.Equal(expected.Engagement.TotalPurchases, user.Engagement.TotalPurchases);
        Assert.Equal(expected.Membership, user.Membership);
        Assert.Equal(expected.Engagement.Score, user.Engagement.Score, 12);
        Assert.True(user.Sequence > expected.Sequence, "the output sequence continues so record ids stay unique");
    }

    [Fact]
    public void TakeWithdrawals_ListsEachWithdrawingUserOnceAndNotErasedOrGrantingOnes()
    {
        var (shard, _, feed) = NewShard();
        feed.Send("u1", T, "click");
        feed.Send("u2", T, "click");
        feed.Send("u1", T + Min, "consent", Withdrawn);
        feed.Send("u1", T + 2 * Min, "consent", Withdrawn);   // already withdrawn: nothing more to release
        feed.Send("u2", T + Min, "consent", Granted);
        feed.Send("u3", T + Min, "forget");
        Assert.Equal(["u1"], shard.TakeWithdrawals());
        Assert.Empty(shard.TakeWithdrawals());
        Assert.Equal(["u3"], shard.TakeErasures());
    }

    [Fact]
    public void ConsentEvent_WithoutADecision_IsDeadLettered()
    {
        var (_, output, feed) = NewShard();
        feed.Send("u1", T, "consent", ""","properties":{"marketing":true}""");
        var dead = Assert.IsType<DeadLetter>(Assert.Single(output.Records));
        Assert.Equal((RejectReason.MissingField, ConsentProperty.Required), (dead.Reason, dead.Detail));
    }

    [Fact]
    public void Forget_DeletesTheRowEmitsAnErasureAndTakesBackExperimentContributions()
    {
        var (shard, output, feed) = NewShard(experiments: Experiments);
        feed.Send("u1", T, "exposure", ",\"experiment_id\":\"exp\",\"variant\":\"b\"");
        feed.Send("u2", T + 1, "exposure", ",\"experiment_id\":\"exp\",\"variant\":\"b\"");
        feed.Send("u1", T + Min, "conversion", ",\"experiment_id\":\"exp\"");
        var firstCheckpoint = shard.ExperimentDeltas!.Take(0, 3);
        shard.TakeDirty();

        feed.Send("u1", T + 2 * Min, "forget");
        var writes = shard.TakeDirty();
        Assert.Contains(writes, w => w.Key == "u1" && w.State is null);
        Assert.Null(shard.Peek("u1"));
        Assert.Equal(["u1"], shard.TakeErasures());
        Assert.Empty(shard.TakeErasures());
        Assert.Single(output.Records.OfType<UserErased>(), e => e.Key == "u1");

        // Totals over both checkpoints equal a log in which u1 never took part.
        var state = ExperimentState.For(ExperimentShape.From(Experiments["exp"]));
        foreach (var d in firstCheckpoint.Concat(shard.ExperimentDeltas.Take(0, 4))) Assert.Equal(ApplyOutcome.Applied, state.Apply(d));
        Assert.Equal((1L, 0L), (state.Arm("b").Users, state.Arm("b").Conversions));
        Assert.Equal(0, state.Arm("b").CovariateSum, 12);

        // The user may come back: a new, empty entity whose row replaces the deletion.
        feed.Send("u1", T + 3 * Min);
        Assert.Equal(1, shard.Peek("u1")!.Engagement.TotalEvents);
        Assert.Contains(shard.TakeDirty(), w => w.Key == "u1" && w.State is not null);
    }

    [Fact]
    public void LateConsentAndForget_StillActAndDoNotMoveTheWatermark()
    {
        var (shard, output, feed) = NewShard();
        feed.Send("u1", T, "purchase", ""","value":5""");
        feed.Send("u2", T);
        feed.Send("clock", T + 2 * Min);
        var watermark = shard.WatermarkMs;
        feed.Send("u1", T - DayMs, "consent", Withdrawn);   // far behind the watermark: still honoured
        feed.Send("u2", watermark + DayMs / 2, "forget");      // an admin's wall-clock stamp ahead of the stream
        Assert.True(shard.Peek("u1")!.ConsentWithdrawn);
        Assert.Null(shard.Peek("u2"));
        Assert.Equal(watermark, shard.WatermarkMs);
        Assert.DoesNotContain(output.Records.OfType<DeadLetter>(), d => d.Reason == RejectReason.LateEvent);
    }

    [Fact]
    public void Retention_DeletesUsersIdleLongerThanTheLimit()
    {
        var (shard, _, feed) = NewShard(new ShardPrivacy { RetentionMs = 10 * DayMs });
        feed.Send("old", T);
        feed.Send("recent", T + 5 * DayMs);
        feed.Send("clock", T + 10 * DayMs + Min);   // watermark past old's last event + 10 days
        Assert.Null(shard.Peek("old"));
        Assert.NotNull(shard.Peek("recent"));
        Assert.Contains(shard.TakeDirty(), w => w.Key == "old" && w.State is null);
        Assert.Equal(1, shard.Counters.Privacy[(int)PrivacyCounter.RetentionDeletes]);
    }

    [Fact]
    public void DisabledMarket_EmitsNoSegmentTransitions()
    {
        var (_, output, feed) = NewShard(new ShardPrivacy { DisabledMarkets = new[] { "fr" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase) });
        feed.Send("paris", T, "purchase", ""","country":"FR","value":3""");
        feed.Send("berlin", T + 1, "purchase", ""","country":"DE","value":3""");
        Assert.DoesNotContain(output.Records.OfType<SegmentTransition>(), t => t.UserId == "paris");
        Assert.Contains(output.Records.OfType<SegmentTransition>(), t => t.UserId == "berlin");
    }

    [Fact]
    public void Pseudonymizer_ReplacesIdsInStateOutputsAndDeadLetters()
    {
        using var pseudonymizer = UserIdPseudonymizer.FromOptions(new PseudonymizationOptions(), _ => []);
        var (shard, output, feed) = NewShard(new ShardPrivacy { Pseudonymizer = pseudonymizer });
        feed.Send("alice@example.com", T, "purchase", ""","value":3""");
        feed.Raw("alice@example.com", """{"user_id":"alice@example.com","type":"click","ts":"not a time"}""", T);
        feed.Raw("bob-raw", """{"user_id":"carol-raw","type":"click","ts":1}""", T);   // key mismatch: both ids redacted
        var alice = pseudonymizer.Pseudonymize("alice@example.com");
        Assert.NotNull(shard.Peek(alice));
        Assert.Null(shard.Peek("alice@example.com"));
        foreach (var o in output.Records)
        {
            var bytes = o is DeadLetter d ? Encoding.UTF8.GetString(d.Source.Value) + "|" + Encoding.UTF8.GetString(d.Source.Key!) : o.ToString();
            foreach (var raw in new[] { "alice@example.com", "bob-raw", "carol-raw" }) Assert.DoesNotContain(raw, bytes + "|" + o.Key + "|" + o.RecordId);
        }
        var dead = output.Records.OfType<DeadLetter>().ToList();
        Assert.Equal(2, dead.Count);
        Assert.Contains(pseudonymizer.Pseudonymize("carol-raw"), Encoding.UTF8.GetString(dead[1].Source.Value));
        Assert.All(dead, d => Assert.Contains(d.Source.Headers!, h => h.Key == DeadLetterRedactor.Header));
    }
}
