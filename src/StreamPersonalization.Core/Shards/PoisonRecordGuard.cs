using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Core.Shards;

/// <summary>What a shard rewinds to: the shard state and pending timers of its last committed checkpoint.</summary>
public sealed record CommittedShardState(byte[]? ShardState, IReadOnlyList<EntityTimer> Timers)
{
    public static readonly CommittedShardState None = new(null, []);

    public override string ToString() => $"CommittedShardState({ShardState?.Length ?? 0} B, {Timers.Count} timers)";
}

/// <summary>
/// Feeds one partition's records to a <see cref="UserShard"/> so that a poison record — one whose event makes entity
/// code throw — is dead-lettered as <c>processing_error</c> (with the exception's type and message) and leaves the
/// shard exactly as if the decoder had rejected it; the user's other events go on.
/// </summary>
/// <remarks>
/// <para><b>Strategy: rewind and replay.</b> A throw can leave more than the user's entity half-changed: the event's
/// watermark advance may already have fired other users' timers, changed counters, sequence numbers and experiment
/// deltas. Undoing that piecemeal would need a copy of every touched entity per event. Instead the guard keeps the
/// records processed since the last checkpoint; on a poison record it resets the shard to the committed state
/// (<see cref="UserShard.ResetTo"/>: entities reload lazily from the store, which holds their committed form) and
/// replays those records with the poison record rejected. Processing is deterministic, so the replay re-derives the
/// outputs already emitted: they are muted, and nothing emitted before is contradicted (a record emits nothing until it
/// has completed). The cost is paid only when a record fails; memory is the records since the last checkpoint.</para>
/// <para>A record that passed before and throws during a replay (a non-deterministic fault) is dead-lettered as well
/// and the replay starts over; each round adds one rejected offset, so it ends. Any other exception (a store that
/// cannot be read, a timer that throws) propagates with the shard half-changed: call <see cref="Retry"/> once the cause
/// is gone, or drop the shard and restart from the checkpoint.</para>
/// <para>After a crash, the replay from the checkpoint meets the poison record again and handles it the same way.</para>
/// </remarks>
public sealed class PoisonRecordGuard(UserShard shard, Func<CommittedShardState> committed)
{
    private readonly List<InputRecord> _sinceCheckpoint = [];
    private readonly Dictionary<long, (PoisonRecordException Error, bool Emitted)> _poison = [];

    public UserShard Shard => shard;

    /// <summary>Records held for a possible replay (processed since the last <see cref="Checkpointed"/>).</summary>
    public int Held => _sinceCheckpoint.Count;

    /// <summary>Poison records dead-lettered by this guard (the exactly-once count is the shard's processing_error counter).</summary>
    public long PoisonRecords { get; private set; }

    /// <summary>Records re-processed by rewinds.</summary>
    public long RecordsReplayed { get; private set; }

    /// <summary>Processes one record (offset order); a poison record is dead-lettered after a rewind and replay.</summary>
    public void Process(InputRecord record)
    {
        _sinceCheckpoint.Add(record);
        try
        {
            shard.Process(record);
        }
        catch (PoisonRecordException ex)
        {
            _poison[record.Offset] = (ex, false);
            PoisonRecords++;
            Replay();
        }
    }

    /// <summary>
    /// After <see cref="Process"/> (or a previous <see cref="Retry"/>) threw something other than a poison record, e.g. an
    /// unreachable store: rewinds to the committed state and replays, the failed record last. Throws again if it fails again.
    /// </summary>
    public void Retry()
    {
        if (_sinceCheckpoint.Count > 0) Replay();
    }

    /// <summary>Everything processed so far is covered by a committed checkpoint: nothing before it will be replayed.</summary>
    public void Checkpointed()
    {
        _sinceCheckpoint.Clear();
        _poison.Clear();
    }

    private void Replay()
    {
        var state = committed();
        while (true)
        {
            shard.ResetTo(state.ShardState, state.Timers);
            var i = 0;
            try
            {
                for (; i < _sinceCheckpoint.Count; i++) Replay(_sinceCheckpoint[i], last: i == _sinceCheckpoint.Count - 1);
                return;
            }
            catch (PoisonRecordException again)
            {
                _poison[_sinceCheckpoint[i].Offset] = (again, false);
                PoisonRecords++;
            }
            finally
            {
                shard.MuteOutputs = false;
            }
        }
    }

    // Outputs of records before the last one were emitted when they were first processed; the last record's were not
    // (it threw), and neither was the dead letter of a record found poisonous only now.
    private void Replay(InputRecord record, bool last)
    {
        if (_poison.TryGetValue(record.Offset, out var poison))
        {
            shard.MuteOutputs = poison.Emitted;
            shard.RejectPoison(record, poison.Error);
            _poison[record.Offset] = (poison.Error, true);
        }
        else
        {
            shard.MuteOutputs = !last;
            shard.Process(record);
        }
        if (!last) RecordsReplayed++;
    }

    public override string ToString() => $"PoisonRecordGuard(p{shard.Partition} held={Held} poison={PoisonRecords} replayed={RecordsReplayed})";
}
