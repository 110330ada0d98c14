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
    public readonly long[] Rejected = new long[Enum.GetValues<RejectReason>().Max(r => (int)r) + 1];

    public long RejectedTotal => Rejected.Sum();

    public void WriteTo(BinaryWriter w)
    {
        w.Write(Records); w.Write(ValidEvents); w.Write(LateEvents); w.Write(CustomTypeEvents);
        w.Write(SessionsClosed); w.Write(Transitions); w.Write(TimersFired);
        w.Write(Rejected.Length);
        foreach (var r in Rejected) w.Write(r);
    }

    /// <summary>Back to zero (a shard rewinding to its checkpoint reads the committed values next).</summary>
    public void Reset()
    {
        Records = ValidEvents = LateEvents = CustomTypeEvents = SessionsClosed = Transitions = TimersFired = 0;
        Array.Clear(Rejected);
    }

    public void ReadFrom(BinaryReader r)
    {
        Records = r.ReadInt64(); ValidEvents = r.ReadInt64(); LateEvents = r.ReadInt64(); CustomTypeEvents = r.ReadInt64();
        SessionsClosed = r.ReadInt64(); Transitions = r.ReadInt64(); TimersFired = r.ReadInt64();
        var n = r.ReadInt32();
        for (var i = 0; i < n; i++) { var v = r.ReadInt64(); if (i < Rejected.Length) Rejected[i] = v; }
    }

    public override string ToString() =>
        $"Counters(records={Records}, valid={ValidEvents}, rejected={RejectedTotal}, late={LateEvents}, sessions={SessionsClosed}, transitions={Transitions})";
}
