using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The shard's side of checkpoints: what a checkpoint takes (dirty entities, deletes, shard state), passivation,
/// and the way back to a committed state (start-up, restart, rewinding past a poison record).
/// </summary>
public sealed partial class UserShard
{
    /// <summary>
    /// Forgets everything since the last checkpoint and returns to its committed state: resident entities are dropped
    /// (they reload lazily from the entity source, which holds the committed states), watermark, counters and experiment
    /// range ends come from <paramref name="shardState"/>, the timer queue from <paramref name="timers"/>. After it,
    /// re-processing the records since that checkpoint reproduces the same state and outputs (processing is deterministic).
    /// </summary>
    public void ResetTo(byte[]? shardState, IEnumerable<EntityTimer> timers)
    {
        _resident.Clear();
        _dirty.Clear();
        _timers.Clear();
        _pending.Clear();
        _deletedKeys.Clear();
        _erasures.Clear();
        _withdrawals.Clear();
        WatermarkMs = long.MinValue;
        Counters.Reset();
        _attribution = NewAttribution();
        RestoreShardState(shardState);
        RestoreTimers(timers);
    }

    /// <summary>Experiment contributions accumulated since the last <see cref="Experiments.Attribution.ExperimentDeltaBuilder.Take"/> (null without an experiment catalog).</summary>
    public Experiments.Attribution.ExperimentDeltaBuilder? ExperimentDeltas => (Experiments.Attribution.ExperimentDeltaBuilder?)_attribution?.Deltas;

    /// <summary>Serializes every dirty entity for the next checkpoint and marks them clean.</summary>
    public List<EntityWrite> TakeDirty()
    {
        var writes = new List<EntityWrite>(_dirty.Count);
        foreach (var e in _dirty)
        {
            var due = e.ScheduledDueMs;
            writes.Add(new EntityWrite(e.Key, UserStateSerializer.Serialize(e, _catalog), due == long.MaxValue ? null : due));
            e.Dirty = false;
        }
        _dirty.Clear();
        foreach (var key in _deletedKeys) writes.Add(new EntityWrite(key, null, null));
        _deletedKeys.Clear();
        return writes;
    }

    /// <summary>Drops clean entities last touched before <paramref name="idleBeforeTick"/> from memory; returns how many.</summary>
    public int Passivate(long idleBeforeTick)
    {
        var victims = new List<string>();
        foreach (var (key, e) in _resident) if (!e.Dirty && e.LastTouchedTicks < idleBeforeTick) victims.Add(key);
        foreach (var key in victims) _resident.Remove(key);
        return victims.Count;
    }

    /// <summary>Rebuilds the timer queue from the store's pending timers (on shard start).</summary>
    public void RestoreTimers(IEnumerable<EntityTimer> timers)
    {
        foreach (var t in timers) _timers.Schedule(t.Key, t.DueMs);
    }

    /// <summary>Watermark, counters (with privacy counters since format 3) and experiment delta range ends, checkpointed with the offset (format 3).</summary>
    public byte[] SaveShardState() => ShardStateCodec.Write(WatermarkMs, Counters, ExperimentDeltas?.RangeEnds);

    public void RestoreShardState(byte[]? state)
    {
        if (state is null) return;
        var (watermark, ends) = ShardStateCodec.Read(state, Partition, Counters);
        WatermarkMs = watermark;
        ExperimentDeltas?.RestoreRangeEnds(ends);
    }

}
