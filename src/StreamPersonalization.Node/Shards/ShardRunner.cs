using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Shards;

/// <summary>
/// Drives one <see cref="UserShard"/> on its own thread: takes the partition's records from a bounded
/// queue, processes them in offset order, and checkpoints (outputs acknowledged, then dirty entities +
/// next offset + watermark in one store transaction) every interval or every N records.
/// <code>
///   Loading ──▶ Running ──stop(checkpoint)──▶ Stopped
///                  │ error (store, delivery, conflict)
///                  ▼
///               Failed  (node restarts the shard from its last checkpoint)
/// </code>
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
    private Task? _loop;
    private long? _storedOffset;
    private long _nextOffset;
    private int _sinceCheckpoint;
    private long _lastCheckpointTicks;

    public ShardRunner(string topic, string experimentStatsTopic, int partition, UserShard shard, ICheckpointStore store, KafkaShardOutput output,
        PartitionCheckpoint? restored, NodeOptions options, ILogger log, TimeProvider time)
    {
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

    public ShardState State { get; private set; } = ShardState.Loading;

    public Exception? Failure { get; private set; }

    public UserShard Shard => _shard;

    /// <summary>Next offset to process (the checkpoint's offset once committed).</summary>
    public long NextOffset => Interlocked.Read(ref _nextOffset);

    public long CommittedOffset => _storedOffset ?? 0;

    public bool HasCheckpoint => _storedOffset.HasValue;

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
        var m = r.Message;
        List<KeyValuePair<string, byte[]>>? headers = null;
        if (m.Headers is { Count: > 0 })
        {
            headers = new List<KeyValuePair<string, byte[]>>(m.Headers.Count);
            foreach (var h in m.Headers) headers.Add(new(h.Key, h.GetValueBytes()));
        }
        _shard.Process(new InputRecord(_topic, r.Partition.Value, r.Offset.Value, m.Key, m.Value ?? [], m.Timestamp.UnixTimestampMs, headers));
        Interlocked.Exchange(ref _nextOffset, r.Offset.Value + 1);
        _sinceCheckpoint++;
    }

    private bool ShouldCheckpoint() =>
        _sinceCheckpoint >= _options.CheckpointMaxRecords ||
        (_sinceCheckpoint > 0 && _time.GetElapsedTime(_lastCheckpointTicks) >= _options.CheckpointInterval);

    /// <summary>Outputs acknowledged, then state + offset in one transaction, then idle entities passivated.</summary>
    /// <param name="deliveryTimeout">How long to wait for output acknowledgements.</param>
    /// <param name="ct">Cancels the wait (a stopping shard checkpoints once more from <see cref="Stop"/>).</param>
    private void Checkpoint(TimeSpan deliveryTimeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        _output.Tracker.WaitAllDelivered(deliveryTimeout, ct);
        var writes = _shard.TakeDirty();
        var next = NextOffset;
        // Experiment deltas for exactly this checkpoint's range go into the store's outbox in the same transaction.
        var outbox = _shard.ExperimentDeltas?.Take(Partition, next, _shard.WatermarkMs == long.MinValue ? null : _shard.WatermarkMs)
            .Select(d => new OutboxMessage(_experimentStatsTopic, System.Text.Encoding.UTF8.GetBytes(d.ExperimentId), d.ToBytes()))
            .ToList();
        var batch = new CheckpointBatch(Scope, Partition, _storedOffset, next, _shard.WatermarkMs, _shard.SaveShardState(), writes, outbox);
        _store.CommitAsync(batch).GetAwaiter().GetResult();
        _storedOffset = next;
        _sinceCheckpoint = 0;
        _lastCheckpointTicks = _time.GetTimestamp();
        var passivated = _shard.Passivate(_time.GetTimestamp() - (long)(_options.PassivateAfter.TotalSeconds * _time.TimestampFrequency));
        _log.LogDebug("Shard {Partition} checkpointed offset {Offset} with {Entities} entities in {Elapsed} ms; passivated {Passivated}",
            Partition, next, writes.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds, passivated);
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
        if (checkpoint && State == ShardState.Running && _sinceCheckpoint > 0)
        {
            try { Checkpoint(timeout, CancellationToken.None); }
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

public enum ShardState { Loading, Running, Stopped, Failed }
