using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Exactly-once counters of one shard: they are checkpointed with its offset, so a replay after a crash
/// does not count twice. Read by metrics and the demo from another thread (plain longs: torn reads are
/// impossible on 64-bit, and a slightly stale figure is fine for display).
/// </summary>
public sealed class ShardCounters
{
    public long Records;
    public long ValidEvents;
    public long LateEvents;
    public long CustomTypeEvents;
    public long SessionsClosed;
    public long Transitions;
    public long TimersFired;
    // Computed once: a user actor's every round allocates counters.
    private static readonly int RejectReasons = Enum.GetValues<RejectReason>().Max(r => (int)r) + 1;
    private static readonly int PrivacyCounters = Enum.GetValues<PrivacyCounter>().Length;

    public readonly long[] Rejected = new long[RejectReasons];
    /// <summary>Privacy actions by <see cref="PrivacyCounter"/> (properties dropped by reason, consent changes, erasures, retention deletes).</summary>
    public readonly long[] Privacy = new long[PrivacyCounters];

    public long RejectedTotal => Rejected.Sum();

    public void WriteTo(BinaryWriter w)
    {
        w.Write(Records); w.Write(ValidEvents); w.Write(LateEvents); w.Write(CustomTypeEvents);
        w.Write(SessionsClosed); w.Write(Transitions); w.Write(TimersFired);
        w.Write(Rejected.Length);
        foreach (var r in Rejected) w.Write(r);
        w.Write(Privacy.Length);
        foreach (var p in Privacy) w.Write(p);
    }

    /// <summary>Back to zero (a shard rewinding to its checkpoint reads the committed values next).</summary>
    public void Reset()
    {
        Records = ValidEvents = LateEvents = CustomTypeEvents = SessionsClosed = Transitions = TimersFired = 0;
        Array.Clear(Rejected);
        Array.Clear(Privacy);
    }

    /// <param name="withPrivacy">False for shard state format ≤ 2, written before the privacy counters existed.</param>
    public void ReadFrom(BinaryReader r, bool withPrivacy = true)
    {
        Records = r.ReadInt64(); ValidEvents = r.ReadInt64(); LateEvents = r.ReadInt64(); CustomTypeEvents = r.ReadInt64();
        SessionsClosed = r.ReadInt64(); Transitions = r.ReadInt64(); TimersFired = r.ReadInt64();
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++) { var v = r.ReadInt64(); if (i < Rejected.Length) Rejected[i] = v; }
        if (!withPrivacy) return;
        n = r.ReadInt32();
        for (var i = 0; i < n; i++) { var v = r.ReadInt64(); if (i < Privacy.Length) Privacy[i] = v; }
    }

    /// <summary>Adds every counter of <paramref name="other"/> (a user's round merged into its partition's).</summary>
    public void Add(ShardCounters other)
    {
        Records += other.Records; ValidEvents += other.ValidEvents; LateEvents += other.LateEvents;
        CustomTypeEvents += other.CustomTypeEvents; SessionsClosed += other.SessionsClosed;
        Transitions += other.Transitions; TimersFired += other.TimersFired;
        for (var i = 0; i < Rejected.Length; i++) Rejected[i] += other.Rejected[i];
        for (var i = 0; i < Privacy.Length; i++) Privacy[i] += other.Privacy[i];
    }

    /// <summary>Adds one to a privacy counter.</summary>
    public void Count(PrivacyCounter c, long by = 1) => Privacy[(int)c] += by;

    public override string ToString() =>
        $"Counters(records={Records}, valid={ValidEvents}, rejected={RejectedTotal}, late={LateEvents}, sessions={SessionsClosed}, transitions={Transitions})";
}

/// <summary>Privacy actions a shard counts (exactly once, like every counter).</summary>
public enum PrivacyCounter
{
    /// <summary>Properties dropped because their name is not allowlisted for the event type.</summary>
    PropertyNotAllowlisted,
    /// <summary>Properties dropped because the value looks like an e-mail address.</summary>
    PropertyPiiEmail,
    /// <summary>Properties dropped because the value looks like a phone number.</summary>
    PropertyPiiPhone,
    /// <summary>Properties dropped because the value looks like an IP address.</summary>
    PropertyPiiIp,
    /// <summary>Properties dropped because the value is an object or array.</summary>
    PropertyNotScalar,
    /// <summary>Users who withdrew consent to personalization.</summary>
    ConsentWithdrawn,
    /// <summary>Users who granted it again after a withdrawal.</summary>
    ConsentGranted,
    /// <summary>Valid events of users without consent: counted, not applied.</summary>
    EventsWithoutConsent,
    /// <summary>Users erased by a <c>forget</c> event.</summary>
    Erasures,
    /// <summary>Idle users deleted by the retention limit.</summary>
    RetentionDeletes,
}
