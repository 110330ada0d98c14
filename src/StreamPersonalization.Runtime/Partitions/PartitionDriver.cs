using Akka.Event;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Alerts;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Runtime.Ingest;
using StreamPersonalization.Runtime.Users;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>
/// One assigned partition inside <see cref="PartitionRoundsStage"/>: its records become rounds for its user actors
/// (<see cref="PartitionRounds"/>), their outputs go downstream, and at a checkpoint the users' state, the partition's
/// shard state, the experiment deltas and the next offset are committed in one store transaction, fenced on the
/// previous offset, once every output since the last checkpoint is acknowledged.
/// <code>
///   Loading ──checkpoint and timers read──▶ Ready ◀─────────────────────────────────────┐
///    ▲  │ store down: retry                   │ records queued, or a checkpoint is due    │
///    │  ▼                                     ▼                                           │
///    │ (retry)                             InRound ──answered──▶ outputs downstream ──────┤ (no checkpoint)
///    │                                        │                        │ checkpoint round │
///    │  poison record, failed round,          │                        ▼                  │
///    └─ undeliverable output: a new epoch ────┘                   Committing ─committed───┘
///       from the checkpoint (rounds since it replayed; muted after poison)  │ revoked and drained: Acknowledge
///   fenced (load, commit), stale epoch, lost ─▶ Done ◀───────────────────────┘
/// </code>
/// Only the stage's thread calls it: completions of store calls and rounds come back through <c>post</c>, and those
/// of a superseded epoch are ignored. One round at a time, and none while a checkpoint commits: an actor that
/// passivated after giving its state to the checkpoint reloads exactly that state.
/// </summary>
internal sealed class PartitionDriver
{
    private enum Phase { Loading, Ready, InRound, Committing, Done }

    private readonly PartitionRoundsOptions _options;
    private readonly ICheckpointStore _store;
    private readonly IUserRounds _users;
    private readonly Action<Action> _post;
    private readonly Callbacks _to;
    private readonly ILoggingAdapter _log;
    private readonly TimeProvider _time;
    private readonly PartitionRounds _rounds;
    private readonly RoundRewind _rewind = new();
    private readonly Queue<InputRecord> _queue = new();
    private PartitionRecords? _source;   // the last batch received: releases records back to the source's count
    private readonly Queue<(IReadOnlyList<InputRecord> Records, bool Checkpoint, bool Muted)> _replay = new();
    private readonly List<Task> _undelivered = [];   // outputs since the last checkpoint
    private readonly CancellationTokenSource _cancel = new();
    private Phase _phase = Phase.Loading;
    private long _epoch;
    private long? _committed;            // the last checkpoint's next offset (null: none yet)
    private byte[]? _committedShardState;
    private long _next;                  // the offset after the last record taken into a round
    private int _sinceCheckpoint;        // records taken into rounds since the last checkpoint
    private long _lastCheckpointTicks;
    private CheckpointBatch? _pendingBatch;   // built but not committed: retried as it is (its state was taken)
    private PartitionRevoked? _revoked;
    private int _attempt;                 // store retries of the current load or commit
    private int _failures;                // rewinds after failures since the last commit (their back-off)
    private bool _checkpointRead;         // the committed offset and shard state are known
    private bool _deliveryFailed;         // an output of this epoch was not delivered: replay from the checkpoint
    private (PartitionRound Round, bool Muted)? _current;   // the round in flight
    private readonly DataQualityMonitor? _dataQuality;
    private DataLossException? _dataLost;   // its next records fell off the log: no round runs again

    /// <summary>What the driver tells the stage.</summary>
    internal sealed record Callbacks(Action<RoundOutputs> Emit, Func<bool> MayStartRound, Action<PartitionDriver> Finished, Action<PartitionDriver, long> Committed,
        Action<PartitionDriver, Alert> Alert);

    public PartitionDriver(int partition, string topic, PartitionRounds rounds, PartitionRoundsOptions options, ICheckpointStore store, IUserRounds users,
        Action<Action> post, Callbacks callbacks, ILoggingAdapter log, TimeProvider time)
    {
        (Partition, Topic, _rounds, _options, _store, _users, _post, _to, _log, _time) = (partition, topic, rounds, options, store, users, post, callbacks, log, time);
        _lastCheckpointTicks = time.GetTimestamp();
        // In memory only: after a restart a still-bad ratio raises the same alert id again (episode 1), which
        // downstream de-duplication absorbs.
        _dataQuality = options.DataQuality is { } dq ? new DataQualityMonitor($"{topic}/{partition}", dq) : null;
        Status = new PartitionStatus(partition, rounds.Counters);
    }

    /// <summary>What the partition is doing, for readers on other threads.</summary>
    public PartitionStatus Status { get; }

    public int Partition { get; }

    public string Topic { get; }

    /// <summary>Records received and not yet taken into a round.</summary>
    public int Queued => _queue.Count;

    public long? CommittedOffset => _committed;

    public bool IsDone => _phase == Phase.Done;

    /// <summary>Poison records dead-lettered since the partition was assigned.</summary>
    public long PoisonRecords => _rewind.PoisonRecords;

    public void Start() => Guard(Load);

    public void Offer(PartitionRecords batch) => Guard(() =>
    {
        _source = batch;
        if (_dataLost is not null) { batch.Release(batch.Records.Count); return; }   // nothing is processed after a gap; the records stay in Kafka
        foreach (var r in batch.Records) _queue.Enqueue(r.ToInputRecord(Topic));
        Status.Queue(_queue.Count);
        TryStartRound();
    });

    /// <summary>The consumer gives the partition up: finish what is queued, take the last checkpoint, then acknowledge.
    /// Once revoked, a store that does not answer or a round that fails gives the partition up at once instead of
    /// retrying (the next owner starts from the checkpoint), so the consumer is not kept waiting.</summary>
    public void Revoke(PartitionRevoked revoked) => Guard(() =>
    {
        _revoked = revoked;
        if (_phase == Phase.Done) { revoked.Acknowledge(); return; }
        // A round waiting for users that cannot read their state would hold the consumer for as long as the store is
        // down: give up now, the next owner starts from the checkpoint.
        if (_phase == Phase.InRound && Status.State == PartitionState.Stalled) { Lose("revoked while its users cannot read their state"); return; }
        TryStartRound();
    });

    /// <summary>The records after the checkpoint are gone from the log (retention) and the policy is to stop: no round
    /// runs again here (nothing is skipped); the partition stays assigned, reported as <see cref="PartitionState.Failed"/>.</summary>
    public void DataLost(DataLossException error) => Guard(() =>
    {
        _dataLost = error;
        Status.Failed(error);
        Drop(_queue.Count);   // what was fetched before the gap is past the checkpoint too: it is read again from Kafka
        Status.Queue(0);
        _log.Error("Partition {0}/{1}: {2}", Topic, Partition, error.Message);
    });

    /// <summary>Starts the next round if the partition is idle and has records, or a checkpoint is due.</summary>
    public void TryStart() => Guard(TryStartRound);

    private void Post(Action action) => _post(() => Guard(action));

    /// <summary>
    /// The one error policy of a partition: whatever its own code throws (a corrupt shard state, a bug) costs this
    /// partition a new epoch from its checkpoint after a growing back-off, never the other partitions or the graph.
    /// </summary>
    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _log.Error(e, "Partition {0}/{1}: {2}; starting again from the checkpoint at {3}", Topic, Partition, e.Message, _committed?.ToString() ?? "the beginning");
            Recover(e.Message);
        }
    }

    private void Recover(string why)
    {
        if (_phase == Phase.Done) return;
        if (_revoked is not null) { Lose($"revoked while failing: {why}"); return; }
        Status.Restarted();
        var current = _current;
        _current = null;
        if (current is { } c) _rounds.Abandon(c.Round, why);
        _pendingBatch = null;
        try
        {
            if (!_checkpointRead) { _epoch = PartitionEpoch.Next(_time); After(_options.RetryDelay(++_failures), Load); return; }
            Rewind(muteCompleted: false, then: current, delay: true);
        }
        catch (Exception e)
        {
            _log.Error(e, "Partition {0}/{1}: could not start again ({2}); stopped", Topic, Partition, e.Message);
            GiveUp($"could not start again: {e.Message}");
        }
    }

    /// <summary>
    /// Stops while the consumer still owns the partition (its checkpoint was fenced, or a user saw a newer epoch:
    /// another member has, or had, the partition). The partition stays on the board as
    /// <see cref="PartitionState.Failed"/> (the node is not ready) until the group revokes it, loses it or assigns it
    /// again; nothing is processed meanwhile. A revoked partition just stops.
    /// </summary>
    private void GiveUp(string why)
    {
        if (_phase == Phase.Done) return;
        if (_revoked is null) _gaveUp = new PartitionStoppedException($"Partition {Topic}/{Partition} stopped while still assigned here: {why}");
        Lose(why);
    }

    private PartitionStoppedException? _gaveUp;
    private int _lostInARow;   // rounds lost since the last checkpoint

    /// <summary>Another member may own the partition already: stop, commit nothing.</summary>
    public void Lose(string why)
    {
        if (_phase == Phase.Done) return;
        _log.Warning("Partition {0}/{1}: stopped without a checkpoint ({2}); {3} queued records left to the next owner, which starts at offset {4}",
            Topic, Partition, why, _queue.Count, _committed?.ToString() ?? "the beginning");
        Finish();
    }

    private void TryStartRound()
    {
        if (_phase != Phase.Ready) return;
        if (_dataLost is not null) { if (_revoked is not null) Finish(); return; }
        if (_deliveryFailed)
        {
            _deliveryFailed = false;
            if (_revoked is not null) { Lose("revoked with undeliverable outputs"); return; }
            Status.Restarted();
            _log.Warning("Partition {0}/{1}: outputs not delivered; starting again from the checkpoint at {2}", Topic, Partition, _committed?.ToString() ?? "the beginning");
            Rewind(muteCompleted: false, then: null, delay: true);
            return;
        }
        if (!_to.MayStartRound()) return;
        if (_replay.TryPeek(out var replay))
        {
            StartRound(replay.Records, replay.Checkpoint, replay.Muted, () => _replay.Dequeue());
            return;
        }
        while (_queue.TryPeek(out var head) && head.Offset < _next) Drop(1);   // re-delivered: covered already
        var take = Math.Min(_queue.Count, Math.Min(_options.MaxRoundRecords, Math.Max(0, _options.CheckpointMaxRecords - _sinceCheckpoint)));
        var drained = take == _queue.Count;
        var intervalDue = _time.GetElapsedTime(_lastCheckpointTicks) >= _options.CheckpointInterval;
        var checkpoint = _sinceCheckpoint + take >= _options.CheckpointMaxRecords || (drained && (_revoked is not null || intervalDue));
        if (take == 0)
        {
            if (!checkpoint) return;
            if (_sinceCheckpoint == 0 && _rounds.DirtyUsers == 0)
            {
                _lastCheckpointTicks = _time.GetTimestamp();
                if (_revoked is not null) Finish();   // nothing since the last checkpoint: it stands
                return;
            }
        }
        var records = _queue.Take(take).ToArray();
        StartRound(records, checkpoint, muted: false, () => Drop(records.Length));
    }

    /// <param name="taken">Removes the records from where they came once planning succeeded (a throw keeps them).</param>
    private void StartRound(IReadOnlyList<InputRecord> records, bool checkpoint, bool muted, Action taken)
    {
        var round = _rounds.Plan(records, checkpoint, _rewind.Poison);
        taken();
        _current = (round, muted);
        if (records.Count > 0) _next = records[^1].Offset + 1;
        _sinceCheckpoint += records.Count;
        _phase = Phase.InRound;
        var epoch = _epoch;
        Task<UserWorkResult[]> answer;
        try { answer = _users.RunAsync(round, epoch, _committed, _cancel.Token, (refusal, attempt) => Post(() => Waiting(epoch, refusal, attempt))); }
        catch (Exception e) { answer = Task.FromException<UserWorkResult[]>(e); }
        answer.ContinueWith(t => Post(() => Answered(round, epoch, muted, t)), TaskScheduler.Default);
    }

    /// <summary>Users of the round in flight cannot read their state: the partition reports itself stalled (the round
    /// re-sends their work with a growing back-off and goes on once the store answers).</summary>
    private void Waiting(long epoch, UserRoundFailed refusal, int attempt)
    {
        if (epoch != _epoch || _phase != Phase.InRound || _dataLost is not null) return;
        if (_revoked is not null) { Lose($"revoked while its users cannot read their state: {refusal.Error}"); return; }
        Status.Stalled(new UserStateUnavailableException(refusal));
        _log.Warning("Partition {0}/{1} stalled reading user state (attempt {2}): {3}; the round waits and sends the work again",
            Topic, Partition, attempt, refusal.Error);
    }

    private void Answered(PartitionRound round, long epoch, bool muted, Task<UserWorkResult[]> answer)
    {
        if (epoch != _epoch || _phase != Phase.InRound) return;   // superseded, or the partition is gone
        if (answer.IsCanceled)
        {
            if (!_cancel.IsCancellationRequested) Recover("the round was cancelled");
            return;
        }
        if (answer.Exception?.GetBaseException() is { } error)
        {
            _current = null;
            _rounds.Abandon(round, error.Message);
            if (error is UserRoundFailedException { Refusal.Reason: UserRoundRefusal.Fenced or UserRoundRefusal.Stale } refused)
            {
                GiveUp($"a user refused the round: {refused.Refusal.Reason}, {refused.Refusal.Error}");
                return;
            }
            if (error is UserRoundLostException)
            {
                // Messages to users were dropped (a shard hand-off drops what its region buffered) or their node went
                // away: no output of this round went out; rounds since the checkpoint run again muted, then this one.
                Status.LostRound();
                // Again and again without a checkpoint between (its users' node is gone, or their shard cannot settle):
                // a failure, with the growing back-off, not a hand-off.
                var again = ++_lostInARow >= 3;
                if (again) Status.Restarted();
                _log.Warning("Partition {0}/{1}: {2}; replaying {3} records since the checkpoint at {4}{5}",
                    Topic, Partition, error.Message, _rewind.HeldRecords, _committed?.ToString() ?? "the beginning", again ? $" ({_lostInARow} in a row)" : "");
                Rewind(muteCompleted: true, then: (round, muted), delay: again);
                return;
            }
            if (error is UserRoundFailedException { Refusal.Reason: UserRoundRefusal.StateLost } lost)
            {
                // A user actor stopped before the checkpoint (its shard moved, or it crashed). Nothing of this round
                // applied; the published rounds are re-derived, muted, and this one runs again.
                _log.Info("Partition {0}/{1}: user {2} lost its uncheckpointed state; replaying {3} records since the checkpoint at {4}",
                    Topic, Partition, lost.Refusal.Key, _rewind.HeldRecords, _committed?.ToString() ?? "the beginning");
                Rewind(muteCompleted: true, then: (round, muted), delay: false);
                return;
            }
            if (_revoked is not null && _failures >= 3) { Lose($"revoked while its rounds keep failing: {error.Message}"); return; }
            Status.Restarted();
            _log.Warning("Partition {0}/{1}: round at offset {2} failed ({3}); starting again from the checkpoint at {4}",
                Topic, Partition, round.Records.Count > 0 ? round.Records[0].Offset : _next, error.Message, _committed?.ToString() ?? "the beginning");
            Rewind(muteCompleted: false, then: (round, muted), delay: true);
            return;
        }
        var outcome = _rounds.Complete(round, answer.Result);
        _current = null;
        if (outcome.Poison is { } poisoned)
        {
            _rewind.Poisoned(poisoned);
            Status.Poisoned();
            _log.Warning("Partition {0}/{1}: poison record at offset {2} ({3}); replaying {4} records since the checkpoint at {5} without it",
                Topic, Partition, poisoned.PoisonOffset, poisoned.Poison!.Detail, _rewind.HeldRecords, _committed?.ToString() ?? "the beginning");
            Rewind(muteCompleted: true, then: (round, muted), delay: false);
            return;
        }
        _rewind.RoundCompleted(round);
        if (Status.State == PartitionState.Stalled)
        {
            Status.Running();
            _log.Info("Partition {0}/{1} recovered: its users' state can be read again", Topic, Partition);
        }
        Status.Progress(_next, _queue.Count);
        if (!muted && outcome.Outputs.Count > 0)
        {
            var outputs = new RoundOutputs(Partition, _epoch, outcome.Outputs);
            _undelivered.Add(outputs.Delivered);
            var emittedIn = _epoch;
            // Noticed at once, not only at the next checkpoint: the sooner the replay, the fewer later outputs overtake it.
            outputs.Delivered.ContinueWith(_ => Post(() => { if (emittedIn == _epoch) _deliveryFailed = true; TryStartRound(); }),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            _to.Emit(outputs);
        }
        if (round.Checkpoint) Commit(outcome.Writes);
        else { _phase = Phase.Ready; TryStartRound(); }
    }

    private void Commit(IReadOnlyList<EntityWrite> writes)
    {
        _phase = Phase.Committing;
        var parts = _rounds.TakeCheckpoint(_next);
        var outbox = _options.ExperimentStatsTopic is { } topic
            ? parts.Deltas.Select(d => new OutboxMessage(topic, System.Text.Encoding.UTF8.GetBytes(d.ExperimentId), d.ToBytes())).ToList()
            : null;
        _pendingBatch = new CheckpointBatch(_options.Scope, Partition, _committed, _next, _rounds.WatermarkMs, parts.ShardState, writes, outbox, parts.Erasures, parts.Withdrawals);
        var delivered = Task.WhenAll(_undelivered);
        var epoch = _epoch;
        delivered.ContinueWith(t => Post(() => Delivered(epoch, t)), TaskScheduler.Default);
    }

    private void Delivered(long epoch, Task delivered)
    {
        if (epoch != _epoch || _phase != Phase.Committing) return;
        if (delivered.Exception?.GetBaseException() is { } error)
        {
            _log.Warning("Partition {0}/{1}: outputs not delivered ({2}); starting again from the checkpoint at {3}", Topic, Partition, error.Message, _committed?.ToString() ?? "the beginning");
            _pendingBatch = null;
            if (_revoked is not null) { Lose($"revoked with undeliverable outputs: {error.Message}"); return; }
            Status.Restarted();
            Rewind(muteCompleted: false, then: null, delay: true);
            return;
        }
        _undelivered.Clear();
        var batch = _pendingBatch!;
        Call(async () => { await _store.CommitAsync(batch, _cancel.Token).ConfigureAwait(false); return true; }).ContinueWith(t => Post(() => CommitEnded(epoch, batch, t)), TaskScheduler.Default);
    }

    private void CommitEnded(long epoch, CheckpointBatch batch, Task commit)
    {
        if (epoch != _epoch || _phase != Phase.Committing || commit.IsCanceled) return;
        if (commit.Exception?.GetBaseException() is { } error)
        {
            if (error is CheckpointConflictException { Actual: { } actual } && actual == batch.NextOffset && _attempt > 0)
            {
                // An earlier attempt of this very batch was committed and only its answer was lost.
                _log.Info("Partition {0}/{1}: checkpoint at offset {2} found committed by an earlier attempt", Topic, Partition, batch.NextOffset);
            }
            else if (error is CheckpointConflictException) { GiveUp($"checkpoint fenced: {error.Message}"); return; }
            else if (_revoked is not null && _attempt >= 3) { Lose($"revoked while its checkpoint cannot be committed: {error.Message}"); return; }
            else
            {
                var delay = _options.RetryDelay(++_attempt);
                Status.Stalled(error);
                _log.Warning("Partition {0}/{1} stalled: checkpoint at offset {2} not committed ({3}); retrying in {4} ms", Topic, Partition, batch.NextOffset, error.Message, (long)delay.TotalMilliseconds);
                After(delay, () => Delivered(epoch, Task.CompletedTask));   // the same batch again: its state was taken
                return;
            }
        }
        _attempt = 0;
        _failures = 0;
        _lostInARow = 0;
        _pendingBatch = null;
        _committed = batch.NextOffset;
        _committedShardState = batch.ShardState;
        _rewind.Committed();
        Status.Committed(batch.NextOffset);
        if (_dataLost is null) Status.Running();
        Status.Progress(_next, _queue.Count);
        _sinceCheckpoint = 0;
        _lastCheckpointTicks = _time.GetTimestamp();
        try
        {
            _to.Committed(this, batch.NextOffset);
            if (_dataQuality is not null)
                foreach (var alert in _dataQuality.Observe(DataQualitySample.From(_rounds.Counters, batch.NextOffset, _rounds.WatermarkMs == long.MinValue ? null : _rounds.WatermarkMs)))
                {
                    _log.Warning("Data-quality alert {0} on {1}/{2}: {3}", alert.Id, Topic, Partition, alert.Message);
                    _to.Alert(this, alert);
                }
        }
        catch (Exception e)
        {
            _log.Error(e, "Partition {0}/{1}: after the checkpoint at {2}: {3}", Topic, Partition, batch.NextOffset, e.Message);   // committed: nothing to undo
        }
        _log.Debug("Partition {0}/{1}: checkpoint committed at offset {2} ({3} users)", Topic, Partition, batch.NextOffset, batch.Entities.Count);
        _phase = Phase.Ready;
        if (_revoked is not null && _queue.Count == 0 && _replay.Count == 0) { Finish(); return; }
        TryStartRound();
    }

    /// <summary>
    /// A new epoch from the last checkpoint: the users reload their committed rows, the partition its committed shard
    /// state and timers, and the rounds since the checkpoint run again — muted after a poison record or lost state
    /// (their outputs were published, or are still on their way, and the replay re-derives them), published again after
    /// a failure (consumers de-duplicate on <c>sp-record-id</c>). <paramref name="then"/> (the round that failed) keeps
    /// its own muting and runs after them, and so does every replay still queued.
    /// </summary>
    private void Rewind(bool muteCompleted, (PartitionRound Round, bool Muted)? then, bool delay)
    {
        _phase = Phase.Loading;
        if (_dataLost is null) Status.Loading();
        if (!muteCompleted) _deliveryFailed = false;   // everything since the checkpoint goes out again
        _epoch = PartitionEpoch.Next(_time);
        if (!muteCompleted) _undelivered.Clear();   // all published again; a muted replay still waits for the first delivery
        var leftover = _replay.ToList();
        _replay.Clear();
        foreach (var done in _rewind.TakeCompleted()) _replay.Enqueue((done, false, muteCompleted));
        if (then is { } t) _replay.Enqueue((t.Round.Records, t.Round.Checkpoint, t.Muted));
        foreach (var queued in leftover) _replay.Enqueue(queued);
        _next = _committed ?? 0;
        _sinceCheckpoint = 0;
        var epoch = _epoch;
        if (delay) After(_options.RetryDelay(++_failures), () => { if (epoch == _epoch) LoadTimers(_committedShardState); });
        else LoadTimers(_committedShardState);
    }

    private void Load()
    {
        _phase = Phase.Loading;
        if (_dataLost is null) Status.Loading();
        _epoch = PartitionEpoch.Next(_time);
        var epoch = _epoch;
        Call(() => _store.LoadCheckpointAsync(_options.Scope, Partition, _cancel.Token)).ContinueWith(t => Post(() =>
        {
            if (epoch != _epoch || t.IsCanceled) return;
            if (t.Exception?.GetBaseException() is { } error) { RetryLoad("its checkpoint", error, Load); return; }
            _committed = t.Result?.NextOffset;
            if (_committed is { } c) Status.Committed(c);
            _committedShardState = t.Result?.ShardState;
            _checkpointRead = true;
            _next = _committed ?? 0;
            LoadTimers(_committedShardState);
        }), TaskScheduler.Default);
    }

    private void LoadTimers(byte[]? shardState)
    {
        var epoch = _epoch;
        Call(() => _store.LoadTimersAsync(_options.Scope, Partition, _cancel.Token)).ContinueWith(t => Post(() =>
        {
            if (epoch != _epoch || t.IsCanceled) return;
            if (t.Exception?.GetBaseException() is { } error) { RetryLoad("its timers", error, () => LoadTimers(shardState)); return; }
            _rounds.Restore(shardState, t.Result);
            _attempt = 0;
            _phase = Phase.Ready;
            if (_dataLost is null) Status.Running();
            Status.Progress(_next, _queue.Count);
            TryStartRound();
        }), TaskScheduler.Default);
    }

    private void RetryLoad(string what, Exception error, Action again)
    {
        if (_revoked is not null) { Lose($"revoked while {what} cannot be read: {error.Message}"); return; }
        var delay = _options.RetryDelay(++_attempt);
        Status.Stalled(error);
        _log.Warning("Partition {0}/{1} stalled: {2} not read ({3}); retrying in {4} ms", Topic, Partition, what, error.Message, (long)delay.TotalMilliseconds);
        var epoch = _epoch;
        After(delay, () => { if (epoch == _epoch) again(); });
    }

    /// <summary>A store call whose synchronous throw becomes a faulted task, handled like any other store error.</summary>
    private static Task<T> Call<T>(Func<Task<T>> call)
    {
        try { return call(); }
        catch (Exception e) { return Task.FromException<T>(e); }
    }

    private void After(TimeSpan delay, Action action) =>
        Task.Delay(delay, _time, _cancel.Token).ContinueWith(t => { if (!t.IsCanceled) Post(action); }, TaskScheduler.Default);

    /// <summary>Takes <paramref name="count"/> records off the queue's head and gives them back to the source's count
    /// of what this partition holds (its pause is per partition: see <see cref="KafkaSourceOptions.HoldUntilReleased"/>).</summary>
    private void Drop(int count)
    {
        for (var i = 0; i < count; i++) _queue.Dequeue();
        if (count > 0) _source?.Release(count);
    }

    private void Finish()
    {
        _phase = Phase.Done;
        Drop(_queue.Count);   // left to the next owner, or to this node's next assignment, which reads them again
        if (_gaveUp is { } stopped) Status.Failed(stopped);
        else Status.Stopped();
        _epoch = PartitionEpoch.Next(_time);   // late completions of the last incarnation are ignored
        _cancel.Cancel();
        _revoked?.Acknowledge();
        _to.Finished(this);
    }

    public override string ToString() => $"PartitionDriver({Topic}/{Partition} {_phase} epoch {_epoch:x} next={_next} committed={_committed?.ToString() ?? "none"} queued={_queue.Count})";
}

/// <summary>A partition stopped while the consumer still owns it (fenced: another member has, or had, it).</summary>
public sealed class PartitionStoppedException(string message) : Exception(message);
