namespace StreamPersonalization.Core.Experiments.State;

/// <summary>
/// Per-experiment aggregate of exactly the offsets [<see cref="From"/>, <see cref="To"/>) of one source partition,
/// written by a user shard in its checkpoint transaction. Because ranges are deterministic and contiguous, the
/// entity can apply each one exactly once by comparing <see cref="From"/> with its high-water mark.
/// <see cref="WatermarkMs"/> is the source shard's event-time watermark at the end of the range (null when unknown:
/// the shard had no event yet, or the delta was written in format 1); the entity charts per-minute rates by it.
/// </summary>
public sealed record ExperimentDelta(string ExperimentId, int SourcePartition, long From, long To, IReadOnlyList<ArmDelta> Arms, long? WatermarkMs = null)
{
    /// <summary>
    /// Binary format version; bump when the layout changes so old relays' rows are recognised. Format 2 adds each
    /// arm's value histogram and the watermark after <see cref="To"/>; format 1 rows (still possible in outboxes and on
    /// the topic) are read with empty histograms and no watermark.
    /// </summary>
    public const byte FormatVersion = 2;

    /// <summary>Compact binary form (no JSON: these flow at the rate of shard checkpoints).</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream(64 + Arms.Count * 64);
        using (var w = new BinaryWriter(ms))
        {
            w.Write(FormatVersion);
            w.Write(ExperimentId);
            w.Write(SourcePartition);
            w.Write(From);
            w.Write(To);
            w.Write(WatermarkMs.HasValue);
            w.Write(WatermarkMs ?? 0);
            w.Write(Arms.Count);
            foreach (var a in Arms) a.WriteTo(w);
        }
        return ms.ToArray();
    }

    /// <summary>Parses <see cref="ToBytes"/> output (formats 1 and 2); throws <see cref="InvalidDataException"/> for an unknown version or truncated bytes.</summary>
    public static ExperimentDelta FromBytes(byte[] bytes)
    {
        try { return Read(bytes); }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated experiment delta", e); }
    }

    private static ExperimentDelta Read(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        var version = r.ReadByte();
        if (version is not (1 or FormatVersion)) throw new InvalidDataException($"experiment delta format {version} is not supported (expected 1 or {FormatVersion})");
        var id = r.ReadString();
        var partition = r.ReadInt32();
        var from = r.ReadInt64();
        var to = r.ReadInt64();
        long? watermark = null;
        if (version >= 2)
        {
            var known = r.ReadBoolean();
            var value = r.ReadInt64();
            if (known) watermark = value;
        }
        var count = r.ReadInt32();
        if (count < 0) throw new InvalidDataException("negative arm count");
        var arms = new ArmDelta[count];
        for (var i = 0; i < count; i++) arms[i] = ArmDelta.ReadFrom(r, version);
        return new(id, partition, from, to, arms, watermark);
    }

    /// <summary>Structural equality including the arms (records compare lists by reference).</summary>
    public bool SameAs(ExperimentDelta other) =>
        ExperimentId == other.ExperimentId && SourcePartition == other.SourcePartition && From == other.From && To == other.To
        && WatermarkMs == other.WatermarkMs && Arms.SequenceEqual(other.Arms);

    /// <inheritdoc />
    public override string ToString() =>
        $"{ExperimentId} p{SourcePartition} [{From}, {To}) wm={(WatermarkMs is { } wm ? Alerts.AlertNames.Time(wm) : "unknown")} {{ {string.Join("; ", Arms)} }}";
}
