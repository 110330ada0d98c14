using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Experiments.Attribution;
using StreamPersonalization.Core.Sessions;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Runtime.Serialization;

/// <summary>
/// Binary form of the user actors' messages (<see cref="UserRound"/>, <see cref="UserRoundResult"/>,
/// <see cref="UserRoundFailed"/>). They cross nodes only while a partition's shard moves (a round routed to the old
/// owner), but then they must arrive whole: every field, in a fixed order, nullable fields behind a presence flag.
/// </summary>
internal static class UserRoundCodec
{
    public static void Write(BinaryWriter w, UserRound m)
    {
        w.Write(m.Partition);
        w.Write(m.Epoch);
        WriteNullable(w, m.ExpectedNextOffset);
        w.Write(m.Work.Key);
        w.Write(m.Work.WatermarkEndMs);
        w.Write(m.Work.TakeState);
        w.Write(m.Work.Continues);
        w.Write(m.Work.Events.Count);
        foreach (var a in m.Work.Events)
        {
            w.Write(a.Offset); w.Write(a.WatermarkBeforeMs); w.Write(a.WatermarkAfterMs);
            WriteEvent(w, a.Event);
        }
    }

    public static UserRound ReadRound(BinaryReader r)
    {
        var partition = r.ReadInt32();
        var epoch = r.ReadInt64();
        var expected = ReadNullableLong(r);
        var key = r.ReadString();
        var end = r.ReadInt64();
        var takeState = r.ReadBoolean();
        var continues = r.ReadBoolean();
        var events = new AcceptedEvent[r.ReadInt32()];
        for (var i = 0; i < events.Length; i++)
        {
            long offset = r.ReadInt64(), before = r.ReadInt64(), after = r.ReadInt64();
            events[i] = new AcceptedEvent(ReadEvent(r), offset, before, after);
        }
        return new UserRound(partition, epoch, expected, new UserWork(key, events, end, takeState, continues));
    }

    public static void Write(BinaryWriter w, UserRoundResult m)
    {
        var x = m.Result;
        w.Write(m.Partition);
        w.Write(m.Epoch);
        w.Write(x.Key);
        w.Write(x.Outputs.Count);
        foreach (var o in x.Outputs) WriteOutput(w, o);
        x.Counters.WriteTo(w);
        w.Write(x.DeltaOps.Count);
        foreach (var op in x.DeltaOps)
        {
            w.Write(op.Offset); w.Write((byte)op.Kind); w.Write(op.Flag); w.Write(op.From); w.Write(op.To);
            var e = op.Exposure;
            w.Write(e.ExperimentId); w.Write(e.VariantId); w.Write(e.ExposedAtMs); w.Write(e.Covariate); w.Write(e.Converted); w.Write(e.Value);
        }
        w.Write(x.Duplicates.Count);
        foreach (var (offset, detail) in x.Duplicates) { w.Write(offset); w.Write(detail); }
        w.Write(x.ScheduledDueMs);
        w.Write(x.Dirty);
        w.Write(x.Write is not null);
        if (x.Write is { } write)
        {
            w.Write(write.Key);
            w.Write(write.State is not null);
            if (write.State is { } state) { w.Write(state.Length); w.Write(state); }
            WriteNullable(w, write.NextTimerMs);
        }
        WriteOffsets(w, x.ErasedAt);
        WriteOffsets(w, x.WithdrewAt);
        w.Write(x.Poison is not null);
        if (x.Poison is { } poison) { WriteEvent(w, poison.Event); w.Write(poison.ErrorType); w.Write(poison.Detail); w.Write(x.PoisonOffset); }
    }

    public static UserRoundResult ReadResult(BinaryReader r)
    {
        var partition = r.ReadInt32();
        var epoch = r.ReadInt64();
        var key = r.ReadString();
        var outputs = new ShardOutput[r.ReadInt32()];
        for (var i = 0; i < outputs.Length; i++) outputs[i] = ReadOutput(r);
        var counters = new ShardCounters();
        counters.ReadFrom(r);
        var ops = new ExperimentDeltaOp[r.ReadInt32()];
        for (var i = 0; i < ops.Length; i++)
        {
            var offset = r.ReadInt64();
            var kind = (DeltaOpKind)r.ReadByte();
            var flag = r.ReadBoolean();
            double from = r.ReadDouble(), to = r.ReadDouble();
            var exposure = ExperimentExposure.Restore(r.ReadString(), r.ReadString(), r.ReadInt64(), r.ReadDouble(), r.ReadBoolean(), r.ReadDouble());
            ops[i] = new ExperimentDeltaOp(offset, kind, exposure, flag, from, to);
        }
        var duplicates = new (long, string)[r.ReadInt32()];
        for (var i = 0; i < duplicates.Length; i++) duplicates[i] = (r.ReadInt64(), r.ReadString());
        var due = r.ReadInt64();
        var dirty = r.ReadBoolean();
        EntityWrite? write = null;
        if (r.ReadBoolean())
        {
            var writeKey = r.ReadString();
            var state = r.ReadBoolean() ? r.ReadBytes(r.ReadInt32()) : null;
            write = new EntityWrite(writeKey, state, ReadNullableLong(r));
        }
        var erased = ReadOffsets(r);
        var withdrew = ReadOffsets(r);
        PoisonRecordException? poison = null;
        var poisonOffset = -1L;
        if (r.ReadBoolean())
        {
            var e = ReadEvent(r);
            poison = new PoisonRecordException(e, r.ReadString(), r.ReadString());
            poisonOffset = r.ReadInt64();
        }
        return new UserRoundResult(partition, epoch, new UserWorkResult(key, outputs, counters, ops, duplicates, due, dirty, write, erased, withdrew, poison, poisonOffset));
    }

    public static void Write(BinaryWriter w, UserRoundFailed m)
    {
        w.Write(m.Partition); w.Write(m.Epoch); w.Write(m.Key); w.Write((byte)m.Reason); w.Write(m.Error);
    }

    public static UserRoundFailed ReadFailed(BinaryReader r)
    {
        var (partition, epoch, key) = (r.ReadInt32(), r.ReadInt64(), r.ReadString());
        var reason = r.ReadByte();
        if (!Enum.IsDefined((UserRoundRefusal)reason)) throw new InvalidDataException($"UserRoundFailed carries unknown refusal {reason}.");
        return new UserRoundFailed(partition, epoch, key, (UserRoundRefusal)reason, r.ReadString());
    }

    private const byte Transition = 1, SessionClosed = 2, Erased = 3;

    private static void WriteOutput(BinaryWriter w, ShardOutput o)
    {
        switch (o)
        {
            case SegmentTransition t:
                w.Write(Transition);
                w.Write(t.UserId); w.Write(t.Sequence); w.Write(t.SegmentId); w.Write(t.Entered); w.Write(t.CatalogVersion); w.Write(t.AtMs); w.Write((byte)t.Cause);
                break;
            case SessionClosedOutput s:
                w.Write(SessionClosed);
                w.Write(s.UserId); w.Write(s.Sequence); w.Write(s.ClosedAtMs);
                var c = s.Session;
                w.Write(c.StartMs); w.Write(c.EndMs); w.Write(c.Events); w.Write(c.PageViews); w.Write(c.AddToCarts); w.Write(c.Purchases); w.Write(c.Revenue);
                break;
            case UserErased e:
                w.Write(Erased);
                w.Write(e.UserId); w.Write(e.AtMs);
                break;
            default:
                throw new ArgumentException($"A user actor does not emit {o.GetType().Name}.", nameof(o));
        }
    }

    private static ShardOutput ReadOutput(BinaryReader r)
    {
        var kind = r.ReadByte();
        switch (kind)
        {
            case Transition:
                return new SegmentTransition(r.ReadString(), r.ReadInt64(), r.ReadString(), r.ReadBoolean(), r.ReadInt32(), r.ReadInt64(), (EvaluationCause)r.ReadByte());
            case SessionClosed:
                var user = r.ReadString();
                long sequence = r.ReadInt64(), closedAt = r.ReadInt64();
                var session = new ClosedSession(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadDouble());
                return new SessionClosedOutput(user, sequence, session, closedAt);
            case Erased:
                return new UserErased(r.ReadString(), r.ReadInt64());
            default:
                throw new InvalidDataException($"Unknown user output kind {kind}.");
        }
    }

    private static void WriteEvent(BinaryWriter w, ClickEvent e)
    {
        w.Write(e.EventId); w.Write(e.UserId); w.Write((byte)e.Type); w.Write(e.TypeName); w.Write(e.TimestampMs);
        WriteNullable(w, e.Page); WriteNullable(w, e.Device); WriteNullable(w, e.Country);
        w.Write(e.Value.HasValue); if (e.Value is { } v) w.Write(v);
        WriteNullable(w, e.ExperimentId); WriteNullable(w, e.Variant);
        w.Write(e.PropertyCount);
        w.Write((byte)(e.ConsentGranted switch { null => 0, false => 1, true => 2 }));
    }

    private static ClickEvent ReadEvent(BinaryReader r)
    {
        string id = r.ReadString(), user = r.ReadString();
        var type = (EventType)r.ReadByte();
        var typeName = r.ReadString();
        var ts = r.ReadInt64();
        string? page = ReadNullableString(r), device = ReadNullableString(r), country = ReadNullableString(r);
        double? value = r.ReadBoolean() ? r.ReadDouble() : null;
        string? experiment = ReadNullableString(r), variant = ReadNullableString(r);
        var properties = r.ReadInt32();
        bool? consent = r.ReadByte() switch { 0 => null, 1 => false, _ => true };
        return new ClickEvent(id, user, type, typeName, ts, page, device, country, value, experiment, variant, properties, consent);
    }

    private static void WriteOffsets(BinaryWriter w, IReadOnlyList<long> offsets)
    {
        w.Write(offsets.Count);
        foreach (var o in offsets) w.Write(o);
    }

    private static long[] ReadOffsets(BinaryReader r)
    {
        var offsets = new long[r.ReadInt32()];
        for (var i = 0; i < offsets.Length; i++) offsets[i] = r.ReadInt64();
        return offsets;
    }

    private static void WriteNullable(BinaryWriter w, string? s) { w.Write(s is not null); if (s is not null) w.Write(s); }

    private static void WriteNullable(BinaryWriter w, long? v) { w.Write(v.HasValue); if (v is { } x) w.Write(x); }

    private static string? ReadNullableString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static long? ReadNullableLong(BinaryReader r) => r.ReadBoolean() ? r.ReadInt64() : null;
}
