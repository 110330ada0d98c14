namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The rounds path's answer to a poison record (what <see cref="PoisonRecordGuard"/> is to <see cref="UserShard"/>):
/// it keeps the record batches of the rounds completed since the partition's last committed checkpoint and the
/// records found poison, so that after a poisoned round the partition can rewind and replay.
/// </summary>
/// <remarks>
/// <para>A poisoned round is merged into nothing, but its users' state is half-changed, and other users already applied
/// it. So the partition restores its committed checkpoint (<see cref="PartitionRounds.Restore"/>), starts a new epoch
/// (every user reloads its committed row), replays the completed batches with the same boundaries, muted (they were
/// published when first run, and processing is deterministic, so they re-derive the same outputs), and then the
/// poisoned batch with every poison record rejected as <c>processing_error</c>. If the replay finds another poison
/// record, it rewinds again; each rewind adds one rejected offset, so it ends.</para>
/// <para>Memory: the records since the last checkpoint (the same bound as the guard's).</para>
/// </remarks>
public sealed class RoundRewind
{
    private readonly List<IReadOnlyList<InputRecord>> _completed = [];
    private readonly Dictionary<long, PoisonRecordException> _poison = [];

    /// <summary>Records rejected as poison since the last checkpoint, by offset (give to <see cref="PartitionRounds.Plan"/>).</summary>
    public IReadOnlyDictionary<long, PoisonRecordException> Poison => _poison;

    /// <summary>Batches to replay, muted, before the poisoned one (the rounds completed since the last checkpoint).</summary>
    public IReadOnlyList<IReadOnlyList<InputRecord>> Completed => _completed;

    /// <summary>Records held for a replay.</summary>
    public int HeldRecords => _completed.Sum(b => b.Count);

    /// <summary>Poison records found (each cost one rewind).</summary>
    public long PoisonRecords { get; private set; }

    /// <summary>The round's outputs were published; keep its records until the next checkpoint is committed.</summary>
    public void RoundCompleted(PartitionRound round)
    {
        if (round.Records.Count > 0) _completed.Add(round.Records);
    }

    /// <summary>A checkpoint covering every completed round was committed: nothing before it is replayed again.</summary>
    public void Committed()
    {
        _completed.Clear();
        _poison.Clear();
    }

    /// <summary>Hands over the completed batches for a replay and forgets them (each is held again once its replay
    /// completes); the poison records found stay rejected until the next checkpoint.</summary>
    public IReadOnlyList<IReadOnlyList<InputRecord>> TakeCompleted()
    {
        var taken = _completed.ToList();
        _completed.Clear();
        return taken;
    }

    /// <summary>The round came back with a poison record: remembers it (the caller rewinds and replays <see cref="Completed"/>, then the round's records).</summary>
    public void Poisoned(UserWorkResult poisoned)
    {
        if (poisoned.Poison is null) throw new ArgumentException($"{poisoned} carries no poison record.", nameof(poisoned));
        if (!_poison.TryAdd(poisoned.PoisonOffset, poisoned.Poison))
            throw new InvalidOperationException($"Offset {poisoned.PoisonOffset} was already rejected as poison, yet was applied again.");
        PoisonRecords++;
    }

    public override string ToString() => $"RoundRewind({_completed.Count} rounds, {HeldRecords} records held, {_poison.Count} poison)";
}
