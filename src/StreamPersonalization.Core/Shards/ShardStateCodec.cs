namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The partition's own state checkpointed with its offset (format 3): watermark, counters (with privacy counters
/// since format 3) and the experiment delta range ends (since format 2). One format for both runtimes.
/// </summary>
public static class ShardStateCodec
{
    public const byte Version = 3;

    public static byte[] Write(long watermarkMs, ShardCounters counters, IReadOnlyDictionary<string, long>? rangeEnds)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(Version);
        w.Write(watermarkMs);
        counters.WriteTo(w);
        w.Write(rangeEnds?.Count ?? 0);
        foreach (var (experiment, end) in rangeEnds ?? new Dictionary<string, long>()) { w.Write(experiment); w.Write(end); }
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Reads <paramref name="state"/> into <paramref name="counters"/>; returns the watermark and the range ends.</summary>
    public static (long WatermarkMs, List<KeyValuePair<string, long>> RangeEnds) Read(byte[] state, int partition, ShardCounters counters)
    {
        using var r = new BinaryReader(new MemoryStream(state));
        var version = r.ReadByte();
        if (version is < 1 or > Version) throw new InvalidDataException($"Shard state of partition {partition} has format version {version}; this build reads versions 1..{Version}.");
        var watermark = r.ReadInt64();
        counters.ReadFrom(r, withPrivacy: version >= 3);
        var ends = new List<KeyValuePair<string, long>>();
        if (version < 2) return (watermark, ends);
        for (var n = r.ReadInt32(); n > 0; n--) ends.Add(new(r.ReadString(), r.ReadInt64()));
        return (watermark, ends);
    }
}
