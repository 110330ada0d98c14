using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Kafka;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Shards;

/// <summary>
/// Drives one <see cref="UserShard"/> on its own thread: takes the partition's records from a bounded
/// queue, processes them in offset order, and checkpoints (outputs acknowledged, then dirty entities +
/// next offset + watermark in one store transaction) every interval or every N records.
/// <code>
///   Loading ──▶ Running ──stop(checkpoint)──▶ Stopped
///               │  ▲  │ error (delivery, conflict, timer)
///   store down  ▼  │  ▼
///             Stalled  Failed  (node restarts the shard from its last checkpoint)
///   (retries with bounded back-off; alive, not ready)
/// </code>
/// Faults: a poison record (entity code throws on it) is dead-lettered by a <see cref="PoisonRecordGuard"/>, which
/// rewinds the shard to the checkpoint and replays the records since then without it. A store that cannot be read
/// or written stalls the shard: it keeps its state, retries with <see cref="RetryBackoff"/> and reports it (state
/// <see cref="ShardState.Stalled"/> with the error in <see cref="Failure"/>, <see cref="ShardMetrics"/>, a warning per
/// retry); its queue fills and the node pauses the partition. Nothing is skipped.
/// </summary>
public sealed class ShardRunner
{
    public const string Scope = "users";

    private readonly Channel<ConsumeResult<byte[], byte[]>> _queue;
    private readonly UserShard _shard;
    private readonly ICheckpointStore _store;
    private readonly KafkaShardOutput _output;
    private readonly NodeOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly string _topic;
    private readonly string _experimentStatsTopic;
    private readonly PoisonRecordGuard _guard;
    private readonly RetryBackoff _backoff;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly Core.Experiments.Alerts.DataQualityMonitor? _dataQuality;
    private Task? _loop;
    private byte[]? _committedShardState;
    private CheckpointBatch? _pendingBatch;   // built (entities taken) but not yet committed: retried as it is
    private bool _halfProcessed;              // a record failed part-way and was not replayed yet: never checkpoint this state
    private long? _storedOffset;
    private long _nextOffset;
    private int _sinceCheckpoint;
    private long _lastCheckpointTicks;

    /// <param name="backoff">Retry delays while the store is unavailable (default <see cref="RetryBackoff"/>'s).</param>
    public ShardRunner(string topic, string experimentStatsTopic, int partition, UserShard shard, ICheckpointStore store, KafkaShardOutput output,
        PartitionCheckpoint? restored, NodeOptions options, ILogger log, TimeProvider time, RetryBackoff? backoff = null,
        Core.Experiments.Alerts.DataQualityOptions? dataQuality = null)
    {
        // Invalid- and late-event ratios over the last checkpoints; in memory only: after a restart a still-bad ratio
        // raises the same alert id again (episode 1), which downstream de-duplication absorbs.
        _dataQuality = dataQuality is null ? null : new Core.Experiments.Alerts.DataQualityMonitor($"{topic}/{partition}", dataQuality);
        _backoff = (backoff ?? new RetryBackoff()).Validate();
        _tag = new("partition", partition);
        _committedShardState = restored?.ShardState;
        _guard = new PoisonRecordGuard(shard, LoadCommittedState);
        _topic = topic;
        _experimentStatsTopic = experimentStatsTopic;
        Partition = partition;
        _shard = shard;
        _store = store;
        _output = output;
        _options = options;
        _log = log;
        _time = time;
        _storedOffset = restored?.NextOffset;
        _nextOffset = restored?.NextOffset ?? 0;
        LastProgressTicks = time.GetTimestamp();
        _queue = Channel.CreateBounded<ConsumeResult<byte[], byte[]>>(new BoundedChannelOptions(options.ShardQueueCapacity)
        {
            SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public int Partition { get; }

    public ShardState State { get => _state; private set => _state = value; }

    // Volatile: HTTP threads read state and failure while the shard thread writes them (failure first).
    private volatile ShardState _state = ShardState.Loading;
    private volatile Exception? _failure;

    /// <summary>Why the shard failed, or (while <see cref="ShardState.Stalled"/>) the store error it is waiting out.</summary>
    public Exception? Failure { get => _failure; private set => _failure = value; }

    /// <summary>Store calls retried after a back-off since this runner started.</summary>
    public long StoreRetries { get; private set; }

    /// <summary>Poison records dead-lettered by this runner (the checkpointed count is the shard's processing_error counter).</summary>
    public long PoisonRecords => _guard.PoisonRecords;

    public UserShard Shard => _shard;

    /// <summary>Next offset to process (the checkpoint's offset once committed).</summary>
    public long NextOffset => Interlocked.Read(ref _nextOffset);

    public long CommittedOffset => _storedOffset ?? 0;

    public bool HasCheckpoint => _storedOffset.HasValue;

    /// <summary>The next offset of this shard's last committed checkpoint (null before the first); entity loads are fenced on it.</summary>
    public long? StoredOffset => _storedOffset;

    public int Queued => _queue.Reader.Count;

    /// <summary>Wall-clock ticks of the loop's last progress; a stale value means a stuck shard.</summary>
    public long LastProgressTicks { get; private set; }

    /// <summary>Raised (on the shard thread) after each committed checkpoint with the committed next offset.</summary>
    public event Action<ShardRunner, long>? Checkpointed;

    public bool TryEnqueue(ConsumeResult<byte[], byte[]> record) => _queue.Writer.TryWrite(record);

    public void Start()
    {
        _lastCheckpointTicks = _time.GetTimestamp();
        LastProgressTicks = _lastCheckpointTicks;
        State = ShardState.Running;
        _loop = Task.Factory.StartNew(Loop, TaskCreationOptions.LongRunning);
    }

    private void Loop()
    {
        var reader = _queue.Reader;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var processed = 0;
                _shard.CurrentTick = _time.GetTimestamp();
                while (processed < 4096 && _sinceCheckpoint < _options.CheckpointMaxRecords && reader.TryRead(out var record))
                {
                    Process(record);
                    processed++;
                }
                LastProgressTicks = _time.GetTimestamp();
                if (ShouldCheckpoint()) Checkpoint(TimeSpan.FromMinutes(2), _stop.Token);
                if (processed == 0) WaitForRecords(reader);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Fail(ex);
            _log.LogError(ex, "Shard {Partition} failed at offset {Offset}; it restarts from its last checkpoint {Checkpoint}", Partition, NextOffset, _storedOffset);
        }
    }

    // One pending wait at a time, reused across idle intervals: a new WaitToReadAsync per interval would
    // leave a waiter and a token registration behind each time on a partition without traffic.
    private Task<bool>? _pendingWait;

    private void WaitForRecords(ChannelReader<ConsumeResult<byte[], byte[]>> reader)
    {
        _pendingWait ??= reader.WaitToReadAsync(_stop.Token).AsTask();
        try
        {
            if (_pendingWait.Wait(_options.CheckpointInterval)) _pendingWait = null;
        }
        catch (AggregateException ex) when (ex.InnerException is OperationCanceledException or ChannelClosedException)
        {
            _pendingWait = null;
        }
    }

    private void Process(ConsumeResult<byte[], byte[]> r)
    {
        if (r.Offset.Value < _nextOffset) return;   // already covered by the checkpoint (re-delivery after a seek)
        ProcessGuarded(r.ToInputRecord(_topic));
        Interlocked.Exchange(ref _nextOffset, r.Offset.Value + 1);
        _sinceCheckpoint++;
    }

    /// <summary>One record through the poison guard; while the store cannot be read, rewinds and retries with back-off.</summary>
    private void ProcessGuarded(InputRecord record)
    {
        var poisonBefore = _guard.PoisonRecords;
        _halfProcessed = true;
        try
        {
            _guard.Process(record);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            for (var attempt = 1; ; attempt++)
            {
                WaitOutStoreFailure(ex, attempt, $"reading state for {record.Position}", _stop.Token, until: null);
                try
                {
                    _guard.Retry();
                    break;
                }
                catch (Exception again) when (IsStoreFailure(again))
                {
                    ex = again;
                }
            }
            LeaveStall();
        }
        _halfProcessed = false;
        if (_guard.PoisonRecords > poisonBefore)
        {
            ShardMetrics.PoisonRecords.Add(_guard.PoisonRecords - poisonBefore, _tag);
            _log.LogWarning("Shard {Partition}: poison record {Position} dead-lettered as processing_error; replayed {Held} records since the checkpoint at {Checkpoint}",
                Partition, record.Position, _guard.Held - 1, _storedOffset);
        }
    }

    // The store could not be read (an entity's or the timers' state): transient, worth waiting for.
    // A fenced load (another shard owns the partition now) is not transient: the shard fails and is rebuilt from the
    // new owner's checkpoint, or stops when the consumer learns it lost the partition.
    private static bool IsStoreFailure(Exception ex) => ex is EntityStateException { InnerException: not CheckpointConflictException } or StoreReadException;

    /// <summary>Reports a store error (state Stalled, metric, warning) and waits out the back-off (at most until <paramref name="until"/>); cancelled by <paramref name="ct"/>.</summary>
    private void WaitOutStoreFailure(Exception error, int attempt, string what, CancellationToken ct, DateTime? until)
    {
        var delay = _backoff.Delay(attempt);
        if (until is { } deadline && deadline - DateTime.UtcNow < delay) delay = TimeSpan.FromTicks(Math.Max(0, (deadline - DateTime.UtcNow).Ticks));
        Failure = error;   // before the state: a reader that sees Stalled also sees why
        State = ShardState.Stalled;
        StoreRetries++;
        ShardMetrics.StoreRetries.Add(1, _tag);
        _log.LogWarning("Shard {Partition} stalled {What} (attempt {Attempt}): {Error}; retrying in {Delay} ms",
            Partition, what, attempt, error.GetBaseException().Message, (long)delay.TotalMilliseconds);
        if (ct.CanBeCanceled) ct.WaitHandle.WaitOne(delay); else Thread.Sleep(delay);
        ct.ThrowIfCancellationRequested();
        LastProgressTicks = _time.GetTimestamp();
    }

    private void LeaveStall()
    {
        if (State != ShardState.Stalled) return;
        State = ShardState.Running;
        _log.LogInformation("Shard {Partition} recovered: its store answers again ({Error} cleared)", Partition, Failure?.GetBaseException().Message);
        Failure = null;
    }

    /// <summary>The last committed checkpoint's shard state (kept in memory) and timers (read from the store).</summary>
    private CommittedShardState LoadCommittedState()
    {
        try
        {
            return new CommittedShardState(_committedShardState, _store.LoadTimersAsync(Scope, Partition).GetAwaiter().GetResult());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new StoreReadException($"Timers of partition {Partition} could not be read: {ex.Message}", ex);
        }
    }

    private bool ShouldCheckpoint() =>
        _sinceCheckpoint >= _options.CheckpointMaxRecords ||
        (_sinceCheckpoint > 0 && _time.GetElapsedTime(_lastCheckpointTicks) >= _options.CheckpointInterval);

    /// <summary>Outputs acknowledged, then state + offset in one transaction, then idle entities passivated.</summary>
    /// <param name="deliveryTimeout">How long to wait for output acknowledgements.</param>
    /// <param name="ct">Cancels the waits (a stopping shard checkpoints once more from <see cref="Stop"/>).</param>
    /// <param name="retryUntil">Last moment to retry a failing commit (null: until it succeeds or <paramref name="ct"/> fires).</param>
    private void Checkpoint(TimeSpan deliveryTimeout, CancellationToken ct, DateTime? retryUntil = null)
    {
        var started = Stopwatch.GetTimestamp();
        if (_pendingBatch is null)
        {
            _output.Tracker.WaitAllDelivered(deliveryTimeout, ct);
            var writes = _shard.TakeDirty();
            // Experiment deltas for exactly this checkpoint's range go into the store's outbox in the same transaction.
            var outbox = _shard.ExperimentDeltas?.Take(Partition, NextOffset, _shard.WatermarkMs == long.MinValue ? null : _shard.WatermarkMs)
                .Select(d => new OutboxMessage(_experimentStatsTopic, System.Text.Encoding.UTF8.GetBytes(d.ExperimentId), d.ToBytes()))
                .ToList();
            _pendingBatch = new CheckpointBatch(Scope, Partition, _storedOffset, NextOffset, _shard.WatermarkMs, _shard.SaveShardState(), writes, outbox, _shard.TakeErasures(), _shard.TakeWithdrawals());
        }
        var batch = _pendingBatch;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _store.CommitAsync(batch, ct).GetAwaiter().GetResult();
                break;
            }
            catch (Exception ex) when (ex is not (CheckpointConflictException or OperationCanceledException) && (retryUntil is null || DateTime.UtcNow < retryUntil))
            {
                // The batch is kept as it is (its entities were taken): retrying it loses nothing, a new one would.
                WaitOutStoreFailure(ex, attempt, $"committing offset {batch.NextOffset}", ct, retryUntil);
            }
        }
        LeaveStall();
        _pendingBatch = null;
        var next = batch.NextOffset;
        var writesCount = batch.Entities.Count;
        _committedShardState = batch.ShardState;
        _guard.Checkpointed();
        _storedOffset = next;
        _sinceCheckpoint = 0;
        _lastCheckpointTicks = _time.GetTimestamp();
        var passivated = _shard.Passivate(_time.GetTimestamp() - (long)(_options.PassivateAfter.TotalSeconds * _time.TimestampFrequency));
        _log.LogDebug("Shard {Partition} checkpointed offset {Offset} with {Entities} entities in {Elapsed} ms; passivated {Passivated}",
            Partition, next, writesCount, Stopwatch.GetElapsedTime(started).TotalMilliseconds, passivated);
        if (_dataQuality is not null)
        {
            var watermark = _shard.WatermarkMs == long.MinValue ? (long?)null : _shard.WatermarkMs;
            foreach (var alert in _dataQuality.Observe(Core.Experiments.Alerts.DataQualitySample.From(_shard.Counters, next, watermark)))
            {
                _output.EmitAlert(alert);
                _log.LogWarning("Data-quality alert {AlertId} on {Topic}/{Partition}: {Message}", alert.Id, _topic, Partition, alert.Message);
            }
        }
        Checkpointed?.Invoke(this, next);
    }

    /// <summary>Marks the shard as unable to progress because its data is gone (reported, never skipped).</summary>
    public void MarkDataLoss(Exception reason)
    {
        Fail(reason);
        _log.LogCritical("Shard {Partition} stopped: {Reason}", Partition, reason.Message);
    }

    /// <summary>Asks the loop to stop after its current batch, without waiting (lets a node stop all shards at once).</summary>
    public void RequestStop()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
    }

    /// <summary>
    /// Stops the loop after the current batch; with <paramref name="checkpoint"/> commits what was processed
    /// (nothing is written when nothing was processed since the last checkpoint). Returns false, with the
    /// shard marked Failed, if the loop did not end in time or the final checkpoint failed: the next owner
    /// then replays from the previous checkpoint.
    /// </summary>
    public bool Stop(bool checkpoint, TimeSpan timeout)
    {
        RequestStop();
        var ended = _loop is null || _loop.Wait(timeout);
        if (!ended)
        {
            Fail(new TimeoutException($"Shard {Partition} did not stop within {timeout}."));
            return false;
        }
        if (_halfProcessed)
        {
            // Stopped while a record was waiting for the store: the state is half-changed and must not be committed.
            Fail(new InvalidOperationException($"Shard {Partition} stopped while retrying a record at offset {NextOffset}; its state is not checkpointed."));
            return false;
        }
        if (checkpoint && State is ShardState.Running or ShardState.Stalled && _sinceCheckpoint > 0)
        {
            try { Checkpoint(timeout, CancellationToken.None, DateTime.UtcNow + timeout); }
            catch (Exception ex)
            {
                Fail(ex);
                _log.LogError(ex, "Shard {Partition} could not checkpoint on stop; the next owner replays from offset {Checkpoint}", Partition, _storedOffset);
                return false;
            }
        }
        if (State == ShardState.Failed) return false;
        State = ShardState.Stopped;
        return true;
    }

    /// <summary>Marks the shard as unable to make progress (the node restarts it from its checkpoint unless it is data loss).</summary>
    public void Fail(Exception reason)
    {
        Failure = reason;
        State = ShardState.Failed;
    }

    public override string ToString() => $"ShardRunner(p{Partition} {State} next={NextOffset} stored={_storedOffset})";
}

/// <summary>Lifecycle of a shard runner; <see cref="Stalled"/>: alive but waiting for its store (not ready).</summary>
public enum ShardState { Loading, Running, Stopped, Failed, Stalled }

/// <summary>The store could not be read by a shard (transient: the shard retries with back-off).</summary>
public sealed class StoreReadException(string message, Exception inner) : Exception(message, inner);
