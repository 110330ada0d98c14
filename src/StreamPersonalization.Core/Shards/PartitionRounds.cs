using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Attribution;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The partition's side of the actor runtime, without actors: it turns a batch of records into one round of
/// <see cref="UserWork"/> (each touched user's events, a tick for each user whose timer came due, and at a checkpoint a
/// barrier for each user changed since the last one), then merges the users' <see cref="UserWorkResult"/>s.
/// </summary>
/// <remarks>
/// <para>After a completed round every user is exactly where <see cref="UserShard"/> would be after the same records:
/// the watermark needs no user state (<see cref="PartitionIngest"/>), each user fires its own timers from the
/// watermarks it is sent (<see cref="UserProcessor"/>), and the partition knows every user's next due time from the
/// results, so no timer due by the round's end is left unfired. Rounds of one partition do not overlap.</para>
/// <para>Merging is deterministic: experiment contributions are added in offset order (sums of doubles depend on their
/// order), erasures and withdrawals are listed in offset order, and writes in key order.</para>
/// </remarks>
public sealed class PartitionRounds
{
    private readonly PartitionIngest _ingest;
    private readonly bool _experiments;
    private readonly TimerQueue _timers = new();
    private readonly Dictionary<string, long> _due = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly List<(long Offset, string Key)> _erasures = [], _withdrawals = [];
    private ExperimentDeltaBuilder? _deltas;
    private PartitionRound? _inFlight;
    private string? _mustRestore;   // why the partition's state no longer follows its log (until Restore)

    /// <param name="experiments">Whether an experiment catalog is attributed (the partition then keeps delta ranges).</param>
    public PartitionRounds(int partition, ShardOptions options, bool experiments, StringPool? pool = null)
    {
        Partition = partition;
        _ingest = new PartitionIngest(partition, options.Validate(), Counters, pool ?? new StringPool());
        _experiments = experiments;
        _deltas = experiments ? new ExperimentDeltaBuilder() : null;
    }

    public int Partition { get; }

    public ShardCounters Counters { get; } = new();

    public long WatermarkMs => _ingest.WatermarkMs;

    /// <summary>Users with a pending timer.</summary>
    public int PendingTimers => _due.Count;

    /// <summary>Users changed since the last checkpoint round.</summary>
    public int DirtyUsers => _dirty.Count;

    /// <summary>Experiment contributions merged since the last checkpoint (null without an experiment catalog).</summary>
    public ExperimentDeltaBuilder? ExperimentDeltas => _deltas;

    /// <summary>Forgets everything and starts from a committed checkpoint: its shard state and the store's pending timers.</summary>
    public void Restore(byte[]? shardState, IEnumerable<EntityTimer> timers)
    {
        _inFlight = null;
        _mustRestore = null;
        _timers.Clear();
        _due.Clear();
        _dirty.Clear();
        _erasures.Clear();
        _withdrawals.Clear();
        Counters.Reset();
        _ingest.WatermarkMs = long.MinValue;
        _deltas = _experiments ? new ExperimentDeltaBuilder() : null;
        if (shardState is not null)
        {
            var (watermark, ends) = ShardStateCodec.Read(shardState, Partition, Counters);
            _ingest.WatermarkMs = watermark;
            _deltas?.RestoreRangeEnds(ends);
        }
        foreach (var t in timers) Due(t.Key, t.DueMs);
    }

    /// <summary>
    /// Plans the round for <paramref name="records"/> (offset order). Rejected records become dead letters at once;
    /// records in <paramref name="poison"/> are rejected as <c>processing_error</c> as if the decoder had refused them.
    /// </summary>
    /// <param name="checkpoint">The round ends in a checkpoint: every user changed since the last one is asked for its state.</param>
    /// <exception cref="InvalidOperationException">A round is still in flight, or one was abandoned or poisoned since the last <see cref="Restore"/>.</exception>
    public PartitionRound Plan(IReadOnlyList<InputRecord> records, bool checkpoint, IReadOnlyDictionary<long, PoisonRecordException>? poison = null)
    {
        if (_mustRestore is not null) throw new InvalidOperationException($"Partition {Partition} must restore from its checkpoint before the next round: {_mustRestore}.");
        if (_inFlight is not null) throw new InvalidOperationException($"Partition {Partition} still has {_inFlight} in flight: rounds of a partition do not overlap.");
        var deadLetters = new List<ShardOutput>();
        var byUser = new Dictionary<string, List<AcceptedEvent>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var record in records)
        {
            if (poison is not null && poison.TryGetValue(record.Offset, out var error))
            {
                Counters.Records++;
                _ingest.Reject(record, RejectReason.ProcessingError, error.Detail, deadLetters, error.ErrorType);
                continue;
            }
            if (_ingest.Accept(record, deadLetters) is not { } accepted) continue;
            var key = accepted.Event.UserId;
            if (!byUser.TryGetValue(key, out var events)) { byUser[key] = events = []; order.Add(key); }
            events.Add(accepted);
        }
        var end = _ingest.WatermarkMs;
        var work = new List<UserWork>(order.Count);
        foreach (var key in order) work.Add(new UserWork(key, byUser[key], end, checkpoint, _dirty.Contains(key)));
        var touched = work.Count;
        while (_timers.TryPopDue(end, out var due, out var dueMs))
        {
            if (!_due.TryGetValue(due, out var live) || live != dueMs || byUser.ContainsKey(due)) continue;   // stale, or the user has work anyway
            byUser[due] = [];
            work.Add(new UserWork(due, [], end, checkpoint, _dirty.Contains(due)));
        }
        var ticks = work.Count - touched;
        if (checkpoint)
            foreach (var key in _dirty.Order(StringComparer.Ordinal))
                if (!byUser.ContainsKey(key)) work.Add(new UserWork(key, [], end, TakeState: true, Continues: true));
        return _inFlight = new PartitionRound(Partition, records, work, deadLetters, checkpoint, ticks);
    }

    /// <summary>
    /// Gives up the round in flight (its users failed or timed out, or the partition was revoked). Planning already
    /// moved the watermark and took due timers, so the partition must <see cref="Restore"/> before its next round.
    /// </summary>
    public void Abandon(PartitionRound round, string reason)
    {
        if (!ReferenceEquals(round, _inFlight)) return;
        _inFlight = null;
        _mustRestore = $"{round} was abandoned ({reason})";
    }

    /// <summary>
    /// Merges the users' answers to <paramref name="round"/> (one per work item, any order). Returns the round's
    /// outputs and, at a checkpoint, the rows to write. When a user reports a poison record nothing is merged: the
    /// caller rewinds to the last checkpoint and replays with that record rejected; with several, the lowest offset is
    /// reported (the replay may find the others again, one rewind each).
    /// </summary>
    public RoundOutcome Complete(PartitionRound round, IReadOnlyList<UserWorkResult> results)
    {
        if (!ReferenceEquals(round, _inFlight)) throw new InvalidOperationException($"{round} is not the round in flight of partition {Partition}.");
        if (results.Count != round.Work.Count) throw new ArgumentException($"Round of partition {Partition} has {round.Work.Count} work items but {results.Count} results.", nameof(results));
        _inFlight = null;
        UserWorkResult? poison = null;
        foreach (var r in results)
            if (r.Poison is not null && (poison is null || r.PoisonOffset < poison.PoisonOffset)) poison = r;
        if (poison is not null)
        {
            _mustRestore = $"offset {poison.PoisonOffset} was poison";
            return new RoundOutcome([], [], poison);
        }
        var outputs = new List<ShardOutput>(round.DeadLetters);
        var ops = new List<ExperimentDeltaOp>();
        var writes = new List<EntityWrite>();
        foreach (var r in results)
        {
            Counters.Add(r.Counters);
            foreach (var (offset, detail) in r.Duplicates) outputs.Add(_ingest.DeadLetterFor(round.RecordAt(offset), RejectReason.DuplicateEvent, detail));
            outputs.AddRange(r.Outputs);
            ops.AddRange(r.DeltaOps);
            foreach (var offset in r.ErasedAt) _erasures.Add((offset, r.Key));
            foreach (var offset in r.WithdrewAt) _withdrawals.Add((offset, r.Key));
            if (r.Dirty) _dirty.Add(r.Key);
            if (r.Write is not null) writes.Add(r.Write);
            Due(r.Key, r.ScheduledDueMs);
        }
        if (_deltas is not null)
            foreach (var op in ops.OrderBy(o => o.Offset)) op.ApplyTo(_deltas);   // stable: one event's operations keep their order
        if (round.Checkpoint)
        {
            _dirty.Clear();
            writes.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }
        return new RoundOutcome(outputs, writes, null);
    }

    /// <summary>
    /// What the checkpoint after a completed checkpoint round carries besides the rows: the shard state, the experiment
    /// deltas up to <paramref name="nextOffset"/>, and the users erased and withdrawn since the last one.
    /// </summary>
    public PartitionCheckpointParts TakeCheckpoint(long nextOffset)
    {
        var watermark = WatermarkMs == long.MinValue ? (long?)null : WatermarkMs;
        var deltas = _deltas?.Take(Partition, nextOffset, watermark) ?? [];
        var parts = new PartitionCheckpointParts(ShardStateCodec.Write(WatermarkMs, Counters, _deltas?.RangeEnds), deltas,
            Keys(_erasures), Keys(_withdrawals));
        _erasures.Clear();
        _withdrawals.Clear();
        return parts;
    }

    private static string[] Keys(List<(long Offset, string Key)> list) => list.OrderBy(x => x.Offset).Select(x => x.Key).ToArray();

    private void Due(string key, long dueMs)
    {
        if (dueMs == long.MaxValue) { _due.Remove(key); return; }
        if (_due.TryGetValue(key, out var known) && known == dueMs) return;
        _due[key] = dueMs;
        _timers.Schedule(key, dueMs);
    }

    public override string ToString() => $"PartitionRounds(p{Partition} wm={WatermarkMs} timers={_due.Count} dirty={_dirty.Count})";
}

/// <summary>One planned round of a partition: the work to send to its users, and what the partition already rejected.</summary>
public sealed class PartitionRound(int partition, IReadOnlyList<InputRecord> records, IReadOnlyList<UserWork> work, List<ShardOutput> deadLetters, bool checkpoint, int ticks)
{
    public int Partition => partition;

    public IReadOnlyList<UserWork> Work => work;

    public bool Checkpoint => checkpoint;

    /// <summary>The round's records, in offset order.</summary>
    public IReadOnlyList<InputRecord> Records => records;

    /// <summary>Work items that are only a timer coming due (no events of the user in the round).</summary>
    public int Ticks => ticks;

    /// <summary>The offset after the round's last record (null for a round without records).</summary>
    public long? NextOffset => records.Count == 0 ? null : records[^1].Offset + 1;

    internal List<ShardOutput> DeadLetters => deadLetters;

    internal InputRecord RecordAt(long offset)
    {
        int lo = 0, hi = records.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var at = records[mid].Offset;
            if (at == offset) return records[mid];
            if (at < offset) lo = mid + 1; else hi = mid - 1;
        }
        throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset {offset} is not a record of this round of partition {partition}.");
    }

    public override string ToString() => $"PartitionRound(p{partition}, {records.Count} records, {work.Count} users{(checkpoint ? ", checkpoint" : "")})";
}

/// <summary>What a completed round gives: outputs to publish, rows to write at a checkpoint, or the user whose record was poison.</summary>
public sealed record RoundOutcome(IReadOnlyList<ShardOutput> Outputs, IReadOnlyList<EntityWrite> Writes, UserWorkResult? Poison);

/// <summary>The partition's part of a checkpoint besides the user rows.</summary>
public sealed record PartitionCheckpointParts(byte[] ShardState, IReadOnlyList<Experiments.State.ExperimentDelta> Deltas, IReadOnlyList<string> Erasures, IReadOnlyList<string> Withdrawals);
