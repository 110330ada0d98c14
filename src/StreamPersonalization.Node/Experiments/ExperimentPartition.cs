using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Core.Experiments.State;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// The experiment entities fed by one <c>experiment-stats</c> partition (experiments are keyed by id, so each
/// lives in exactly one partition). Applies deltas exactly once per source range, holds back a range that
/// arrives before its predecessor (a partition that moved between relays), and never checkpoints an offset
/// past a held-back delta, so a restart re-reads it.
/// </summary>
internal sealed class ExperimentPartition(int partition, ICheckpointStore store, ExperimentCatalogSource catalog, long? storedOffset)
{
    public const string Scope = "experiments";

    private readonly Dictionary<string, ExperimentState> _states = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly List<(long Offset, ExperimentDelta Delta)> _heldBack = [];

    public int Partition { get; } = partition;

    public long? StoredOffset { get; private set; } = storedOffset;

    public long NextOffset { get; private set; } = storedOffset ?? 0;

    public long Applied { get; private set; }

    public long Duplicates { get; private set; }

    public long Rejected { get; private set; }

    public IReadOnlyCollection<string> Dirty => _dirty;

    public void Apply(long offset, ExperimentDelta delta)
    {
        if (offset < NextOffset) return;
        if (!catalog.Current.TryGet(delta.ExperimentId, out _)) { NextOffset = offset + 1; Rejected++; return; }
        State(delta.ExperimentId);   // may read the store: if that fails nothing has changed and the caller retries the record
        NextOffset = offset + 1;
        if (Try(delta) == ApplyOutcome.Gap) { _heldBack.Add((offset, delta)); return; }
        // A newly applied range may close the gap in front of held-back ones.
        for (var progress = true; progress && _heldBack.Count > 0;)
        {
            progress = false;
            foreach (var held in _heldBack.ToList())
            {
                if (Try(held.Delta) == ApplyOutcome.Gap) continue;
                _heldBack.Remove(held);
                progress = true;
            }
        }
    }

    private ApplyOutcome Try(ExperimentDelta delta)
    {
        var state = State(delta.ExperimentId);
        var outcome = state.Apply(delta);
        switch (outcome)
        {
            case ApplyOutcome.Applied: Applied++; _dirty.Add(delta.ExperimentId); break;
            case ApplyOutcome.Duplicate: Duplicates++; break;
            case ApplyOutcome.Gap: break;
            default: Rejected++; break;
        }
        return outcome;
    }

    public ExperimentState State(string experimentId)
    {
        if (_states.TryGetValue(experimentId, out var state)) return state;
        var stored = store.LoadEntityAsync(Scope, Partition, experimentId).GetAwaiter().GetResult();
        state = stored is null ? ExperimentState.For(ExperimentShape.From(catalog.Current[experimentId])) : ExperimentState.FromBytes(stored);
        _states[experimentId] = state;
        return state;
    }

    /// <summary>The offset a checkpoint may store: the next one, or the first held-back delta's (it must be re-read).</summary>
    public long CheckpointOffset => _heldBack.Count == 0 ? NextOffset : Math.Min(NextOffset, _heldBack.Min(h => h.Offset));

    /// <summary>
    /// Commits <paramref name="evaluated"/> (copies of dirty states whose alerts were evaluated and published) with the
    /// offset, then adopts them; if the commit throws, the held states are unchanged and the next attempt evaluates again.
    /// </summary>
    public void Commit(IReadOnlyDictionary<string, ExperimentState> evaluated)
    {
        var offset = CheckpointOffset;
        var writes = evaluated.Select(kv => new EntityWrite(kv.Key, kv.Value.ToBytes(), null)).ToList();
        store.CommitAsync(new CheckpointBatch(Scope, Partition, StoredOffset, offset, 0, null, writes)).GetAwaiter().GetResult();
        foreach (var (id, state) in evaluated) _states[id] = state;
        StoredOffset = offset;
        _dirty.Clear();
    }
}
