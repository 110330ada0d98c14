using System.Text;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Tests.Reference;

namespace StreamPersonalization.Core.Tests.Shards;

/// <summary>A generated log split into partitions (stable hash of the key), with offsets.</summary>
public sealed class PartitionedLog
{
    public PartitionedLog(IEnumerable<SyntheticRecord> records, int partitions)
    {
        Partitions = Enumerable.Range(0, partitions).Select(_ => new List<(InputRecord Input, LogRecord Log)>()).ToArray();
        foreach (var r in records)
        {
            var p = r.Key is null ? 0 : (int)((uint)StableHash(r.Key) % (uint)partitions);
            var list = Partitions[p];
            var input = new InputRecord("clickstream", p, list.Count, r.Key is null ? null : Encoding.UTF8.GetBytes(r.Key), r.Value, r.TimestampMs);
            list.Add((input, new LogRecord(p, list.Count, r.Value, r.ExpectedReject)));
        }
    }

    public List<(InputRecord Input, LogRecord Log)>[] Partitions { get; }

    private static int StableHash(string s) { var h = 17; foreach (var c in s) h = h * 31 + c; return h; }
}

/// <summary>The committed state of one partition kept in memory: what a store would hold.</summary>
public sealed class MemoryPartitionState : IEntityStateSource
{
    public readonly Dictionary<string, byte[]> Entities = new(StringComparer.Ordinal);
    public readonly Dictionary<string, long> Timers = new(StringComparer.Ordinal);
    public long NextOffset;
    public byte[]? ShardState;

    public byte[]? Load(string key) => Entities.GetValueOrDefault(key);

    public void Commit(UserShard shard, long nextOffset)
    {
        foreach (var w in shard.TakeDirty())
        {
            if (w.State is null) { Entities.Remove(w.Key); Timers.Remove(w.Key); continue; }
            Entities[w.Key] = w.State;
            if (w.NextTimerMs is { } t) Timers[w.Key] = t; else Timers.Remove(w.Key);
        }
        ShardState = shard.SaveShardState();
        NextOffset = nextOffset;
    }

    /// <summary>A new shard as a restarted node would build it from this state.</summary>
    public UserShard Restore(int partition, ShardOptions options, SegmentCatalog catalog, IShardOutput output,
        Core.Experiments.Definitions.ExperimentCatalog? experiments = null)
    {
        var shard = new UserShard(partition, options, catalog, output, this, experiments);
        shard.RestoreShardState(ShardState);
        shard.RestoreTimers(Timers.Select(kv => new EntityTimer(kv.Key, kv.Value)));
        return shard;
    }
}

public static class OutputComparison
{
    /// <summary>Per-user rendered outputs ordered by sequence; duplicates (same record id) must be identical and are dropped.</summary>
    public static Dictionary<string, List<string>> ByUser(IEnumerable<ShardOutput> outputs)
    {
        var byId = new Dictionary<string, (string User, long Seq, string Rendered)>();
        foreach (var o in outputs)
        {
            var (user, seq) = o switch
            {
                SessionClosedOutput s => (s.UserId, s.Sequence),
                SegmentTransition t => (t.UserId, t.Sequence),
                _ => (null!, -1L),
            };
            if (user is null) continue;
            var rendered = EngineRendering.Render(o);
            if (byId.TryGetValue(o.RecordId, out var existing))
                Assert.True(existing.Rendered == rendered, $"record {o.RecordId} re-emitted with different content: '{existing.Rendered}' vs '{rendered}'");
            else byId[o.RecordId] = (user, seq, rendered);
        }
        return byId.Values.GroupBy(v => v.User, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(v => v.Seq).Select(v => v.Rendered).ToList(), StringComparer.Ordinal);
    }
}
