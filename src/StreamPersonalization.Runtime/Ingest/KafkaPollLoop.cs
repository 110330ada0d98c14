using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Confluent.Kafka;

namespace StreamPersonalization.Runtime.Ingest;

/// <summary>
/// The consumer of <see cref="KafkaSourceStage"/> on a thread of its own: Confluent.Kafka's <c>Consume</c> blocks and
/// runs the rebalance handlers on the calling thread, and a revoke must block until downstream has checkpointed, so
/// none of it may run on a stream dispatcher thread. It hands events to the stage through a queue and a wake-up call.
/// </summary>
/// <remarks>
/// Ordering: a partition's records are queued in offset order. Assignments, revokes and losses go through a control
/// queue the stage empties first, so a revoke is not stuck behind other partitions' backlog; a partition's records
/// still queued when it is revoked or lost belong to an old generation and are dropped, not emitted (downstream
/// checkpoints only what it processed; the next owner reads the rest from there). Back-pressure: records
/// queued and not yet taken by the stage (under <see cref="KafkaSourceOptions.HoldUntilReleased"/>: not yet released by
/// downstream) are counted per partition; at <see cref="KafkaSourceOptions.MaxBufferedPerPartition"/>
/// the partition is paused, at half it is resumed. Every newly assigned partition is resumed explicitly, so a partition
/// paused before a revoke never stays paused after it comes back (a known failure of Kafka stream connectors).
/// </remarks>
internal sealed class KafkaPollLoop
{
    private readonly ConsumerConfig _config;
    private readonly string _topic;
    private readonly KafkaSourceOptions _options;
    private readonly Func<int, long?> _startOffset;
    private readonly Action _wake;
    private readonly Action<string> _warn;
    private readonly ConcurrentQueue<object> _control = new();
    private readonly ConcurrentQueue<PartitionRecords> _records = new();
    private readonly ConcurrentDictionary<int, StrongBox<int>> _buffered = new();
    private readonly ConcurrentDictionary<int, StrongBox<int>> _generation = new();
    private readonly ConcurrentDictionary<int, Action<int>> _releasers = new();
    private readonly TaskCompletionSource _gone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Poll thread only:
    private readonly HashSet<int> _owned = [];
    private readonly HashSet<int> _paused = [];
    private readonly HashSet<int> _dataLost = [];   // paused for good: its records fell off the log (policy Fail)
    private readonly ConcurrentQueue<(int Partition, long Next)> _toStore = new();
    private readonly List<int> _justAssigned = [];
    private readonly Dictionary<int, List<ConsumeResult<byte[], byte[]>>> _pending = [];
    private volatile bool _draining;
    private volatile bool _abandoned;
    private volatile int[] _pausedSnapshot = [];
    private volatile int[] _ownedSnapshot = [];
    private Error? _fatal;
    private volatile bool _joined;
    private long _dataLossEvents;

    public KafkaPollLoop(ConsumerConfig config, string topic, KafkaSourceOptions options, Func<int, long?> startOffset, Action wake, Action<string> warn)
    {
        (_config, _topic, _options, _startOffset, _wake, _warn) = (config, topic, options, startOffset, wake, warn);
    }

    /// <summary>Queued for the stage, taken before any records: assignments, revokes, losses, then <see cref="Completed"/>
    /// or an <see cref="Exception"/>.</summary>
    public ConcurrentQueue<object> Control => _control;

    /// <summary>Record batches queued for the stage; skip those that are not <see cref="IsCurrent"/>.</summary>
    public ConcurrentQueue<PartitionRecords> Records => _records;

    /// <summary>False for a batch of a partition revoked or lost since it was queued (the stage drops it).</summary>
    public bool IsCurrent(PartitionRecords r) => r.Generation == Volatile.Read(ref Generation(r.Partition).Value);

    /// <summary>Records of one partition queued and not yet taken.</summary>
    public int BufferedRecords(int partition) => Volatile.Read(ref Buffered(partition).Value);

    /// <summary>Partitions the consumer owns right now (assigned, not yet revoked or lost).</summary>
    public IReadOnlyList<int> Owned => _ownedSnapshot;

    /// <summary>Partitions paused for back-pressure right now.</summary>
    public IReadOnlyList<int> Paused => _pausedSnapshot;

    /// <summary>The consumer has an assignment from the group (possibly empty) and has not lost it since.</summary>
    public bool Joined => _joined;

    /// <summary>Offsets that fell off the log and were skipped under <see cref="OffsetOutOfRangePolicy.Earliest"/>.</summary>
    public long DataLossEvents => Interlocked.Read(ref _dataLossEvents);

    /// <summary>Hands a checkpointed next offset to the consumer's background auto-commit (Kafka's committed offsets
    /// only feed lag monitoring: the store's checkpoint is the truth).</summary>
    public void StoreOffset(int partition, long next) => _toStore.Enqueue((partition, next));

    /// <summary>Completes when the consumer is closed and the thread has ended.</summary>
    public Task Finished => _finished.Task;

    public void Start() => new Thread(Run) { IsBackground = true, Name = $"kafka-source-{_topic}" }.Start();

    /// <summary><paramref name="count"/> records of <paramref name="partition"/> are no longer buffered: emitted, dropped
    /// as stale, or (under <see cref="KafkaSourceOptions.HoldUntilReleased"/>) released by downstream.</summary>
    public void Taken(int partition, int count) => Interlocked.Add(ref Buffered(partition).Value, -count);

    /// <summary>Stop fetching and close the consumer; revokes still wait for their acknowledgements (the stream runs on).</summary>
    public void Drain() => _draining = true;

    /// <summary>The stream is gone: close without waiting for acknowledgements and queue nothing more.</summary>
    public void Abandon() { _abandoned = true; _draining = true; _gone.TrySetResult(); }

    private StrongBox<int> Buffered(int partition) => _buffered.GetOrAdd(partition, _ => new StrongBox<int>());

    private StrongBox<int> Generation(int partition) => _generation.GetOrAdd(partition, _ => new StrongBox<int>());

    private void Run()
    {
        IConsumer<byte[], byte[]>? consumer = null;
        try
        {
            consumer = new ConsumerBuilder<byte[], byte[]>(_config)
                .SetPartitionsAssignedHandler((_, parts) => { _joined = true; return parts.Select(Assign).ToList(); })
                .SetPartitionsRevokedHandler((c, parts) => Revoke(c, parts.Select(p => p.Partition.Value)))
                .SetPartitionsLostHandler((_, parts) => { _joined = false; Lose(parts.Select(p => p.Partition.Value)); })
                .SetErrorHandler((_, e) => { if (e.IsFatal) _fatal = e; else _warn($"Kafka consumer error on {_topic}: {e.Code}: {e.Reason}"); })
                .Build();
            consumer.Subscribe(_topic);
            while (!_draining && _fatal is null)
            {
                FlowControl(consumer);
                StoreOffsets(consumer);
                Poll(consumer);
            }
            if (_fatal is { } fatal) throw new KafkaException(fatal);
            consumer.Close();   // each revoke stores the offsets of its last checkpoints before it returns   // revokes every partition: each waits for its last checkpoint unless abandoned
            Queue(Completed.Instance);
        }
        catch (Exception e)
        {
            _abandoned = true;   // nothing downstream will acknowledge what a failed source revokes
            Queue(e);
        }
        finally
        {
            try { consumer?.Dispose(); } catch (Exception e) { _warn($"Kafka consumer on {_topic} did not close cleanly: {e.Message}"); }
            _finished.TrySetResult();
        }
    }

    private void Poll(IConsumer<byte[], byte[]> consumer)
    {
        var taken = 0;
        try
        {
            for (var r = consumer.Consume(_options.PollTimeout); r is not null; r = consumer.Consume(TimeSpan.Zero))
            {
                var p = r.Partition.Value;
                if (r.IsPartitionEOF || !_owned.Contains(p)) continue;
                if (!_pending.TryGetValue(p, out var batch)) _pending[p] = batch = [];
                batch.Add(r);
                if (++taken >= _options.MaxBatch || batch.Count >= _options.MaxBatch) break;
            }
        }
        catch (ConsumeException e) when (e.Error.Code is ErrorCode.OffsetOutOfRange or ErrorCode.Local_AutoOffsetReset)
        {
            OffsetOutOfRange(consumer, e);
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            // A fetch error of one partition (a broker going away, a corrupt batch): the client retries by itself.
            _warn($"Consume error {e.Error.Code} at {_topic}/{e.ConsumerRecord?.Partition.Value}@{e.ConsumerRecord?.Offset.Value}: {e.Error.Reason}");
        }
        Flush();
    }

    /// <summary>
    /// A partition's start offset is no longer in the log. <see cref="OffsetOutOfRangePolicy.Fail"/>: pause it for good and
    /// tell downstream (nothing is skipped). <see cref="OffsetOutOfRangePolicy.Earliest"/>: count it and read on from the
    /// log start (the fetcher is in an error state for the partition, so it is assigned again rather than seeked).
    /// </summary>
    private void OffsetOutOfRange(IConsumer<byte[], byte[]> consumer, ConsumeException e)
    {
        var p = e.ConsumerRecord?.Partition.Value ?? -1;
        var at = e.ConsumerRecord?.Offset.Value;
        if (!_owned.Contains(p)) { _warn($"Offset {at} of {_topic}/{p} is out of range ({e.Error.Reason}) on a partition not owned here"); return; }
        var tp = new TopicPartition(_topic, p);
        string why;
        try
        {
            var marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            var (low, high) = (marks.Low.Value, marks.High.Value);
            if (at is { } stored && stored > high)
                // Beyond the log's end (a recreated topic, an unclean leader election): reading from the start would
                // feed records below the checkpoint, which the partition skips as covered. Never continue silently.
                why = $"stored offset {stored} is beyond the log's end {high} (the topic was recreated or truncated)";
            else if (_options.OnOffsetOutOfRange == OffsetOutOfRangePolicy.Earliest)
            {
                Interlocked.Increment(ref _dataLossEvents);
                _warn($"Data loss on {_topic}/{p}: records from {at} to {low - 1} were dropped by retention before they were processed; continuing from {low} (OnOffsetOutOfRange=Earliest)");
                consumer.IncrementalUnassign([tp]);
                consumer.IncrementalAssign([new TopicPartitionOffset(tp, new Offset(low))]);
                return;
            }
            else why = $"stored offset {at} fell off the log ({e.Error.Reason})";
        }
        catch (KafkaException k)
        {
            // The broker did not answer (the same outage may have caused this): the fetch fails again and this runs again.
            _warn($"Offset {at} of {_topic}/{p} is out of range and its log bounds could not be read ({k.Error.Reason}); trying again");
            return;
        }
        consumer.Pause([tp]);
        _dataLost.Add(p);
        _pending.Remove(p);
        Queue(new PartitionDataLost(p, new DataLossException($"Partition {p}: {why}; refusing to skip data (OnOffsetOutOfRange={_options.OnOffsetOutOfRange}).")));
    }

    /// <param name="leaving">Partitions being revoked (no longer in the owned set, still assigned until the revoke returns).</param>
    private void StoreOffsets(IConsumer<byte[], byte[]> consumer, IReadOnlySet<int>? leaving = null)
    {
        var latest = new Dictionary<int, long>();
        while (_toStore.TryDequeue(out var o)) latest[o.Partition] = o.Next;
        foreach (var (p, next) in latest)
        {
            if (!_owned.Contains(p) && leaving?.Contains(p) != true) continue;
            try { consumer.StoreOffset(new TopicPartitionOffset(_topic, p, next)); }
            catch (KafkaException) { }   // lag monitoring only; the next checkpoint stores a later one
        }
    }

    private void Flush()
    {
        var any = false;
        foreach (var (p, batch) in _pending)
        {
            if (batch.Count == 0) continue;
            Interlocked.Add(ref Buffered(p).Value, batch.Count);
            if (!_abandoned)
                _records.Enqueue(new PartitionRecords(p, batch.ToArray())
                {
                    Generation = Volatile.Read(ref Generation(p).Value),
                    Releaser = _options.HoldUntilReleased ? _releasers.GetOrAdd(p, partition => n => Taken(partition, n)) : null,
                });
            batch.Clear();
            any = true;
        }
        if (any) _wake();
    }

    private void FlowControl(IConsumer<byte[], byte[]> consumer)
    {
        var changed = false;
        if (_justAssigned.Count > 0)
        {
            consumer.Resume(_justAssigned.Select(p => new TopicPartition(_topic, p)));
            _justAssigned.Clear();
        }
        foreach (var p in _owned)
        {
            if (_dataLost.Contains(p)) continue;
            var buffered = Volatile.Read(ref Buffered(p).Value);
            if (!_paused.Contains(p) && buffered >= _options.MaxBufferedPerPartition)
            {
                consumer.Pause([new TopicPartition(_topic, p)]);
                changed |= _paused.Add(p);
            }
            else if (_paused.Contains(p) && buffered <= _options.MaxBufferedPerPartition / 2)
            {
                consumer.Resume([new TopicPartition(_topic, p)]);
                changed |= _paused.Remove(p);
            }
        }
        if (changed) _pausedSnapshot = [.. _paused.Order()];
    }

    private TopicPartitionOffset Assign(TopicPartition tp)
    {
        var p = tp.Partition.Value;
        var start = _startOffset(p);
        _owned.Add(p);
        _ownedSnapshot = [.. _owned.Order()];
        _justAssigned.Add(p);
        Queue(new PartitionAssigned(p, start));
        return new TopicPartitionOffset(tp, start is { } offset ? new Offset(offset) : Offset.Beginning);
    }

    private void Revoke(IConsumer<byte[], byte[]> consumer, IEnumerable<int> partitions)
    {
        var revoked = partitions.Where(_owned.Contains).Select(p => new PartitionRevoked(p)).ToList();
        // Before the revoke is queued: nothing fetched of these partitions may be emitted after it.
        Retire(revoked.Select(r => r.Partition));
        foreach (var r in revoked) Queue(r);
        // A stream that ends meanwhile acknowledges nothing: stop waiting then rather than hold the group's rebalance.
        if (!_abandoned && revoked.Count > 0
            && !Task.WhenAny(Task.WhenAll(revoked.Select(r => r.Acknowledged)), _gone.Task).Wait(_options.RevokeTimeout))
            _warn($"Revoke of {_topic} [{string.Join(",", revoked.Select(r => r.Partition))}] not acknowledged within {_options.RevokeTimeout}; handing over anyway (a later checkpoint is fenced)");
        // The last checkpoints were just taken: their offsets go with the commit the consumer makes as it lets go.
        StoreOffsets(consumer, revoked.Select(r => r.Partition).ToHashSet());
    }

    private void Lose(IEnumerable<int> partitions)
    {
        var lost = partitions.Where(_owned.Contains).ToList();
        Retire(lost);   // fetched for a partition another node may own already: not handed on
        foreach (var p in lost) Queue(new PartitionLost(p));
    }

    /// <summary>The partitions are no longer this consumer's: their queued and pending records become stale.</summary>
    private void Retire(IEnumerable<int> partitions)
    {
        foreach (var p in partitions)
        {
            Interlocked.Increment(ref Generation(p).Value);   // what is still queued of it is dropped
            _pending.Remove(p);
            _owned.Remove(p);
            _paused.Remove(p);
            _dataLost.Remove(p);
            _justAssigned.Remove(p);
        }
        _pausedSnapshot = [.. _paused.Order()];
        _ownedSnapshot = [.. _owned.Order()];
    }

    private void Queue(object e)
    {
        if (_abandoned && e is PartitionEvent) return;
        _control.Enqueue(e);
        _wake();
    }

    /// <summary>The consumer closed after a drain: the source completes.</summary>
    internal sealed class Completed
    {
        public static readonly Completed Instance = new();
    }
}
