using System.Collections.Concurrent;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Runtime.Partitions;

/// <summary>What an assigned partition is doing, as health checks, metrics and the demo see it.</summary>
public enum PartitionState
{
    /// <summary>Reading its checkpoint and timers (after an assignment, or starting again from the checkpoint).</summary>
    Loading,
    /// <summary>Processing rounds and taking checkpoints.</summary>
    Running,
    /// <summary>Waiting for its store (retrying with back-off); alive, not ready.</summary>
    Stalled,
    /// <summary>Cannot make progress: its data fell off the log (<see cref="Ingest.DataLossException"/>), or it was
    /// fenced while still assigned here (<see cref="PartitionStoppedException"/>).</summary>
    Failed,
    /// <summary>Given up: revoked, lost or fenced (it leaves the board).</summary>
    Stopped,
}

/// <summary>
/// One assigned partition seen from outside the stream: written by its <see cref="PartitionDriver"/> on the stage's
/// thread, read by HTTP and metric threads (single fields, each at most a moment old).
/// </summary>
public sealed class PartitionStatus(int partition, ShardCounters counters)
{
    private volatile PartitionState _state = PartitionState.Loading;
    private volatile Exception? _failure;
    private long _nextOffset;
    private long _committed = -1;
    private volatile int _queued;
    private long _storeRetries;
    private long _restarts;
    private long _poison;
    private long _lostRounds;
    private long _progressTicks = TimeProvider.System.GetTimestamp();

    public int Partition => partition;

    public PartitionState State => _state;

    /// <summary>Why the partition failed, or (while <see cref="PartitionState.Stalled"/>) the store error it waits out.</summary>
    public Exception? Failure => _failure;

    /// <summary>The offset after the last record taken into a round.</summary>
    public long NextOffset => Interlocked.Read(ref _nextOffset);

    /// <summary>The last checkpoint's next offset (null before the first).</summary>
    public long? CommittedOffset => Interlocked.Read(ref _committed) is var c && c >= 0 ? c : null;

    /// <summary>Records received and not yet taken into a round.</summary>
    public int Queued => _queued;

    /// <summary>Store calls retried after a back-off since the partition was assigned.</summary>
    public long StoreRetries => Interlocked.Read(ref _storeRetries);

    /// <summary>New epochs started after a failure (a failed round, an undeliverable output, an exception); poison
    /// records and users that lost their state at a hand-off are not failures.</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Rounds whose users fell silent (messages dropped at a shard hand-off, a node gone) and were replayed
    /// from the checkpoint; expected around scaling, not a failure.</summary>
    public long LostRounds => Interlocked.Read(ref _lostRounds);

    /// <summary>Poison records dead-lettered since the partition was assigned.</summary>
    public long PoisonRecords => Interlocked.Read(ref _poison);

    /// <summary>The partition's exactly-once counters (checkpointed with it: they count since the partition began).</summary>
    public ShardCounters Counters => counters;

    /// <summary>Wall-clock ticks (<see cref="TimeProvider.System"/>) of the last round answered or checkpoint committed.</summary>
    public long LastProgressTicks => Interlocked.Read(ref _progressTicks);

    // Failed is final for this status (data loss, given up): only Stopped follows it.
    internal void Running()
    {
        if (_state == PartitionState.Failed) return;
        _failure = null;
        _state = PartitionState.Running;
    }

    internal void Loading()
    {
        if (_state != PartitionState.Failed) _state = PartitionState.Loading;
    }

    internal void Stalled(Exception error)
    {
        if (_state == PartitionState.Failed) return;
        _failure = error;
        _state = PartitionState.Stalled;
        Interlocked.Increment(ref _storeRetries);
        PartitionMetrics.StoreRetries.Add(1, new KeyValuePair<string, object?>("partition", partition));
    }

    internal void Failed(Exception error)
    {
        _failure = error;
        _state = PartitionState.Failed;
        EverFailed = true;
    }

    /// <summary>The partition was <see cref="PartitionState.Failed"/> at some point (it stays counted after it stops).</summary>
    public bool EverFailed { get; private set; }

    internal void Stopped() => _state = PartitionState.Stopped;

    internal void Restarted()
    {
        Interlocked.Increment(ref _restarts);
        PartitionMetrics.Restarts.Add(1, new KeyValuePair<string, object?>("partition", partition));
    }

    internal void LostRound()
    {
        Interlocked.Increment(ref _lostRounds);
        PartitionMetrics.LostRounds.Add(1, new KeyValuePair<string, object?>("partition", partition));
    }

    internal void Poisoned()
    {
        Interlocked.Increment(ref _poison);
        PartitionMetrics.PoisonRecords.Add(1, new KeyValuePair<string, object?>("partition", partition));
    }

    internal void Progress(long next, int queued)
    {
        Interlocked.Exchange(ref _nextOffset, next);
        _queued = queued;
        Interlocked.Exchange(ref _progressTicks, TimeProvider.System.GetTimestamp());
    }

    internal void Queue(int queued) => _queued = queued;

    internal void Committed(long next) => Interlocked.Exchange(ref _committed, next);

    public override string ToString() => $"Partition {partition}: {State} next={NextOffset} committed={CommittedOffset?.ToString() ?? "none"} queued={Queued}";
}

/// <summary>The partitions a node's ingest graph runs right now.</summary>
public sealed class PartitionBoard
{
    private readonly ConcurrentDictionary<int, PartitionStatus> _partitions = new();
    private long _retiredRestarts;   // of partitions no longer on the board
    private long _retiredFailures;

    /// <summary>The assigned partitions, in no order.</summary>
    public IReadOnlyCollection<PartitionStatus> Partitions => _partitions.Values.ToList();

    /// <summary>Partitions of this node that failed (data loss, given up while assigned), those gone since included.</summary>
    public long Failures => Interlocked.Read(ref _retiredFailures) + _partitions.Values.Count(p => p.EverFailed);

    /// <summary>Restarts after failures of every partition this node ran, those revoked since included.</summary>
    public long Restarts => Interlocked.Read(ref _retiredRestarts) + _partitions.Values.Sum(p => p.Restarts);

    internal void Add(PartitionStatus status)
    {
        if (_partitions.TryGetValue(status.Partition, out var previous) && !ReferenceEquals(previous, status)) Remove(previous);
        _partitions[status.Partition] = status;
    }

    internal void Remove(int partition)
    {
        if (_partitions.TryGetValue(partition, out var status)) Remove(status);
    }

    internal void Remove(PartitionStatus status)
    {
        if (!_partitions.TryRemove(new KeyValuePair<int, PartitionStatus>(status.Partition, status))) return;
        Interlocked.Add(ref _retiredRestarts, status.Restarts);
        if (status.EverFailed) Interlocked.Increment(ref _retiredFailures);
    }
}
