using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Sessions;

namespace StreamPersonalization.Core.Users;

/// <summary>
/// Compact binary form of a <see cref="UserEntity"/> for the state store. Memberships are stored by
/// segment id, not bit index, so a changed catalog maps them correctly (and retires removed segments).
/// Format version 4 (3 plus per-day session seconds and the consent flag; 3 was 2 plus the recent event ids that
/// drop duplicates; 2 was 1 plus experiment exposures); versions 1 to 3 are still read (no ids remembered before 3,
/// no session seconds and consent given before 4). A reader refuses versions it does not know rather than misreading them.
/// </summary>
public static class UserStateSerializer
{
    private const byte FormatVersion = 4;

    public static byte[] Serialize(UserEntity u, SegmentCatalog catalog)
    {
        using var ms = new MemoryStream(128);
        using var w = new BinaryWriter(ms);
        w.Write(FormatVersion);
        w.Write(u.Sequence);
        w.Write(u.NextReevaluationMs);
        w.Write(u.ScheduledDueMs);
        var retired = u.RetiredMemberships ?? [];
        w.Write(System.Numerics.BitOperations.PopCount(u.Membership) + retired.Length);
        foreach (var s in catalog.Segments) if ((u.Membership & (1UL << s.Index)) != 0) w.Write(s.Id);
        foreach (var id in retired) w.Write(id);

        var e = u.Engagement;
        w.Write(e.Score); w.Write(e.ScoreRefMs); w.Write(e.LastEventMs); w.Write(e.TotalEvents); w.Write(e.TotalPurchases);
        WriteNullable(w, e.Device); WriteNullable(w, e.Country); w.Write(e.ProfileMs);
        w.Write(e.Days.Length);
        foreach (var d in e.Days)
        {
            w.Write(d.Day); w.Write(d.Events); w.Write(d.PageViews); w.Write(d.Clicks); w.Write(d.AddToCarts);
            w.Write(d.Purchases); w.Write(d.Sessions); w.Write(d.Custom); w.Write(d.Revenue); w.Write(d.SessionSeconds);
        }
        var events = u.Sessions.Events;
        w.Write(events.Length);
        foreach (var s in events) { w.Write(s.TimestampMs); w.Write(s.Value); w.Write((byte)s.Type); }
        var exposures = u.Exposures ?? [];
        w.Write(exposures.Length);
        foreach (var x in exposures)
        {
            w.Write(x.ExperimentId); w.Write(x.VariantId); w.Write(x.ExposedAtMs); w.Write(x.Covariate); w.Write(x.Converted); w.Write(x.Value);
        }
        if (u.RecentEventIds is { } ids) ids.Write(w); else w.Write(0);
        w.Write(u.ConsentWithdrawn);
        w.Flush();
        return ms.ToArray();
    }

    public static UserEntity Deserialize(string key, byte[] state, SegmentCatalog catalog, StringPool? pool = null)
    {
        using var r = new BinaryReader(new MemoryStream(state));
        var version = r.ReadByte();
        if (version is < 1 or > FormatVersion)
            throw new InvalidDataException($"User state of '{key}' has format version {version}; this build reads versions 1..{FormatVersion}.");
        var u = new UserEntity(key) { Sequence = r.ReadInt64(), NextReevaluationMs = r.ReadInt64(), ScheduledDueMs = r.ReadInt64() };
        var members = r.ReadInt32();
        List<string>? retired = null;
        for (var i = 0; i < members; i++)
        {
            var id = r.ReadString();
            if (catalog.TryGet(id, out var def)) u.Membership |= 1UL << def.Index;
            else (retired ??= []).Add(id);
        }
        u.RetiredMemberships = retired?.ToArray();

        var score = r.ReadDouble(); var scoreRef = r.ReadInt64(); var last = r.ReadInt64();
        var totalEvents = r.ReadInt64(); var totalPurchases = r.ReadInt64();
        var device = ReadNullable(r, pool); var country = ReadNullable(r, pool); var profileMs = r.ReadInt64();
        var days = new DayActivity[r.ReadInt32()];
        for (var i = 0; i < days.Length; i++)
        {
            days[i] = new DayActivity
            {
                Day = r.ReadInt32(), Events = r.ReadUInt16(), PageViews = r.ReadUInt16(), Clicks = r.ReadUInt16(),
                AddToCarts = r.ReadUInt16(), Purchases = r.ReadUInt16(), Sessions = r.ReadUInt16(), Custom = r.ReadUInt16(),
                Revenue = r.ReadDouble(),
                SessionSeconds = version >= 4 ? r.ReadUInt32() : 0,
            };
        }
        u.Engagement.Restore(score, scoreRef, last, totalEvents, totalPurchases, device, country, profileMs, days);
        var events = new SessionEvent[r.ReadInt32()];
        for (var i = 0; i < events.Length; i++) events[i] = new SessionEvent(r.ReadInt64(), r.ReadDouble(), (EventType)r.ReadByte());
        u.Sessions.Restore(events);
        if (version >= 2)
        {
            var exposures = new Experiments.Attribution.ExperimentExposure[r.ReadInt32()];
            for (var i = 0; i < exposures.Length; i++)
            {
                exposures[i] = new Experiments.Attribution.ExperimentExposure(r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadDouble())
                {
                    Converted = r.ReadBoolean(),
                    Value = r.ReadDouble(),
                };
            }
            u.Exposures = exposures.Length == 0 ? null : exposures;
        }
        if (version >= 3) u.RecentEventIds = Shards.EventIdWindow.Read(r);
        if (version >= 4) u.ConsentWithdrawn = r.ReadBoolean();
        return u;
    }

    private static void WriteNullable(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    // Device and country repeat across millions of users: share one instance per shard.
    private static string? ReadNullable(BinaryReader r, StringPool? pool)
    {
        if (!r.ReadBoolean()) return null;
        var s = r.ReadString();
        return pool is null ? s : pool.Get(s.AsSpan());
    }
}
