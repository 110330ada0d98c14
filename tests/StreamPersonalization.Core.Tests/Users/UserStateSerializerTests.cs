using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Tests.Users;

public sealed class UserStateSerializerTests
{
    private const long Min = 60_000;
    private static readonly long T = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly ShardOptions Options = new();

    private static SegmentCatalog Catalog(int version, params (string Id, string Rule)[] segments) => SegmentCatalogLoader.Parse(
        $"version: {version}\nsegments:\n" + string.Concat(segments.Select(s => $"  - id: {s.Id}\n    rule: \"{s.Rule}\"\n")), "test");

    private static readonly (string, string) Buyer = ("buyer", "purchases_30d >= 1");
    private static readonly (string, string) Mobile = ("mobile", "device == 'mobile'");
    private static readonly (string, string) Anyone = ("anyone", "total_events >= 1");
    private static readonly SegmentCatalog V1 = Catalog(1, Buyer, Mobile, Anyone);

    private static ClickEvent Ev(string user, long ts, EventType type, double? value = null, string? device = null, string? country = null) =>
        new($"{user}-{ts}", user, type, type.WireName(), ts, Device: device, Country: country, Value: value);

    /// <summary>u1: a closed session with a purchase (desktop, DE) and an open one; u2 only to move the watermark.</summary>
    private static (UserShard Shard, ListShardOutput Output) RunUser(SegmentCatalog catalog)
    {
        var output = new ListShardOutput();
        var shard = new UserShard(0, Options, catalog, output);
        shard.ProcessEvent(Ev("u1", T, EventType.PageView, device: "desktop", country: "DE"));
        shard.ProcessEvent(Ev("u1", T + 5 * Min, EventType.AddToCart));
        shard.ProcessEvent(Ev("u1", T + 10 * Min, EventType.Purchase, 42.5));
        shard.ProcessEvent(Ev("u2", T + 60 * Min, EventType.Click, device: "mobile"));   // closes u1's first session (due T+45 min)
        shard.ProcessEvent(Ev("u1", T + 120 * Min, EventType.PageView));
        shard.ProcessEvent(Ev("u1", T + 121 * Min, EventType.Click));
        return (shard, output);
    }

    private static UserFeatures Features(UserEntity u, long now)
    {
        var f = default(UserFeatures);
        u.Engagement.Fill(now, new HalfLifeDecay(Options.Engagement.HalfLife), ref f);
        return f;
    }

    [Fact]
    public void Serialize_RoundTrip_GivesIdenticalBytesAndState()
    {
        var (shard, output) = RunUser(V1);
        var original = shard.Peek("u1")!;
        // Sanity of the fixture: one session closed, two events still open, buyer + anyone (bits 0 and 2).
        Assert.Single(output.Records.OfType<SessionClosedOutput>(), s => s.UserId == "u1");
        Assert.Equal(2, original.Sessions.BufferedEvents);
        Assert.Equal(0b101UL, original.Membership);

        var bytes = UserStateSerializer.Serialize(original, V1);
        var copy = UserStateSerializer.Deserialize("u1", bytes, V1);
        Assert.Equal(bytes, UserStateSerializer.Serialize(copy, V1));

        Assert.Equal("u1", copy.Key);
        Assert.Equal(original.Sequence, copy.Sequence);
        Assert.Equal(original.Membership, copy.Membership);
        Assert.Null(copy.RetiredMemberships);
        Assert.Equal(original.NextReevaluationMs, copy.NextReevaluationMs);
        Assert.Equal(original.ScheduledDueMs, copy.ScheduledDueMs);
        Assert.Equal(original.Sessions.Events.ToArray(), copy.Sessions.Events.ToArray());
        Assert.Equal(original.Engagement.Days.ToArray(), copy.Engagement.Days.ToArray());
        foreach (var now in new[] { T + 121 * Min, T + 3 * 86_400_000L, T + 40 * 86_400_000L })
        {
            var expected = Features(original, now);
            var actual = Features(copy, now);
            Assert.Equal(expected, actual);
        }
        // Spot-check a few features against hand-computed values at T+121 min.
        var f = Features(copy, T + 121 * Min);
        Assert.Equal((5.0, 1.0, 42.5, 1.0, "desktop", "DE"), (f.TotalEvents, f.Purchases30d, f.Revenue30d, f.Sessions30d, f.Device, f.Country));
    }

    [Fact]
    public void Serialize_EmptyEntity_RoundTrips()
    {
        var empty = new UserEntity("nobody");
        var bytes = UserStateSerializer.Serialize(empty, V1);
        var copy = UserStateSerializer.Deserialize("nobody", bytes, V1);
        Assert.Equal(bytes, UserStateSerializer.Serialize(copy, V1));
        Assert.Equal(0, copy.Sessions.BufferedEvents);
        Assert.Equal(long.MinValue, copy.Engagement.LastEventMs);
        Assert.Equal(0UL, copy.Membership);
    }

    [Fact]
    public void Deserialize_ReorderedCatalog_KeepsMembershipById()
    {
        var (shard, _) = RunUser(V1);
        var bytes = UserStateSerializer.Serialize(shard.Peek("u1")!, V1);
        var reordered = Catalog(2, Mobile, Anyone, Buyer);   // mobile=0, anyone=1, buyer=2
        var copy = UserStateSerializer.Deserialize("u1", bytes, reordered);
        Assert.Equal(0b110UL, copy.Membership);   // anyone (bit 1) and buyer (bit 2), not mobile
        Assert.Equal(["anyone", "buyer"], reordered.IdsOf(copy.Membership));
        Assert.Null(copy.RetiredMemberships);
    }

    [Fact]
    public void Deserialize_RemovedSegment_BecomesRetiredAndExitsAtNextEvaluation()
    {
        var (shard, _) = RunUser(V1);
        var stored = shard.Peek("u1")!;
        var bytes = UserStateSerializer.Serialize(stored, V1);
        var v3 = Catalog(3, Anyone, Mobile);   // buyer removed
        var copy = UserStateSerializer.Deserialize("u1", bytes, v3);
        Assert.Equal(0b01UL, copy.Membership);
        Assert.Equal(["buyer"], copy.RetiredMemberships!);
        // A retired membership survives another save/load until it is evaluated.
        Assert.Equal(["buyer"], UserStateSerializer.Deserialize("u1", UserStateSerializer.Serialize(copy, v3), v3).RetiredMemberships!);

        var output = new ListShardOutput();
        var newShard = new UserShard(0, Options, v3, output, new Store { ["u1"] = bytes });
        newShard.ProcessEvent(Ev("u1", T + 125 * Min, EventType.Click));
        var t = Assert.Single(output.Records.OfType<SegmentTransition>());
        Assert.Equal(("u1", "buyer", false, 3, T + 125 * Min, EvaluationCause.Event), (t.UserId, t.SegmentId, t.Entered, t.CatalogVersion, t.AtMs, t.Cause));
        Assert.Equal(stored.Sequence, t.Sequence);   // sequence continues from the stored state
        Assert.Equal("exit", t.Change);
        var after = newShard.Peek("u1")!;
        Assert.Null(after.RetiredMemberships);
        Assert.Equal(6, after.Engagement.TotalEvents);
        // Evaluated once: the next evaluation emits nothing more.
        newShard.ProcessEvent(Ev("u1", T + 126 * Min, EventType.Click));
        Assert.Single(output.Records.OfType<SegmentTransition>());
    }

    [Fact]
    public void Deserialize_FormatVersion1_ReadsStateWrittenBeforeExposuresExisted()
    {
        var user = RunUser(V1).Shard.Peek("u1")!;
        var current = UserStateSerializer.Serialize(user, V1);
        Assert.Equal(4, current[0]);
        var read = UserStateSerializer.Deserialize("u1", DowngradeToVersion1(current), V1);
        Assert.Null(read.Exposures);
        Assert.Null(read.RecentEventIds);
        Assert.False(read.ConsentWithdrawn);
        // Everything version 1 held survives; per-day session seconds did not exist then and read as 0.
        Assert.Equal((user.Sequence, user.Membership, user.NextReevaluationMs, user.ScheduledDueMs), (read.Sequence, read.Membership, read.NextReevaluationMs, read.ScheduledDueMs));
        Assert.Equal(user.Engagement.Days.ToArray().Select(d => d with { SessionSeconds = 0 }), read.Engagement.Days.ToArray());
        Assert.Equal(user.Sessions.Events.ToArray(), read.Sessions.Events.ToArray());
        Assert.Equal((user.Engagement.Score, user.Engagement.TotalEvents, user.Engagement.Device), (read.Engagement.Score, read.Engagement.TotalEvents, read.Engagement.Device));
    }

    [Fact]
    public void Serialize_ConsentFlagAndSessionSecondsRoundTrip()
    {
        var user = RunUser(V1).Shard.Peek("u1")!;
        user.ConsentWithdrawn = true;
        var read = UserStateSerializer.Deserialize("u1", UserStateSerializer.Serialize(user, V1), V1);
        Assert.True(read.ConsentWithdrawn);
        Assert.Equal(user.Engagement.Days.ToArray(), read.Engagement.Days.ToArray());
        Assert.Equal(UserStateSerializer.Serialize(user, V1), UserStateSerializer.Serialize(read, V1));
    }

    /// <summary>Rewrites version-4 bytes in the version-1 layout (no session seconds, exposures, event ids or consent), field by field.</summary>
    private static byte[] DowngradeToVersion1(byte[] v4)
    {
        using var r = new BinaryReader(new MemoryStream(v4));
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        Assert.Equal(4, r.ReadByte());
        w.Write((byte)1);
        w.Write(r.ReadInt64()); w.Write(r.ReadInt64()); w.Write(r.ReadInt64());
        var members = r.ReadInt32(); w.Write(members);
        for (var i = 0; i < members; i++) w.Write(r.ReadString());
        w.Write(r.ReadDouble()); w.Write(r.ReadInt64()); w.Write(r.ReadInt64()); w.Write(r.ReadInt64()); w.Write(r.ReadInt64());
        for (var i = 0; i < 2; i++) { var has = r.ReadBoolean(); w.Write(has); if (has) w.Write(r.ReadString()); }
        w.Write(r.ReadInt64());
        var days = r.ReadInt32(); w.Write(days);
        for (var i = 0; i < days; i++)
        {
            w.Write(r.ReadInt32());
            for (var c = 0; c < 7; c++) w.Write(r.ReadUInt16());
            w.Write(r.ReadDouble());
            r.ReadUInt32();   // session seconds: not in version 1
        }
        var events = r.ReadInt32(); w.Write(events);
        for (var i = 0; i < events; i++) { w.Write(r.ReadInt64()); w.Write(r.ReadDouble()); w.Write(r.ReadByte()); }
        w.Flush();
        return ms.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(255)]
    public void Deserialize_UnknownFormatVersion_ThrowsInvalidData(byte version)
    {
        var bytes = UserStateSerializer.Serialize(RunUser(V1).Shard.Peek("u1")!, V1);
        Assert.Equal(4, bytes[0]);
        bytes[0] = version;
        var ex = Assert.Throws<InvalidDataException>(() => UserStateSerializer.Deserialize("u1", bytes, V1));
        Assert.Contains("'u1'", ex.Message);
        Assert.Contains($"format version {version}", ex.Message);
    }

    private sealed class Store : Dictionary<string, byte[]>, IEntityStateSource
    {
        public byte[]? Load(string key) => TryGetValue(key, out var v) ? v : null;
    }
}
