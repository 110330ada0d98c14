using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Node.Shards;

namespace StreamPersonalization.Node;

/// <summary>
/// One node of the user stage. The Kafka consumer group is the shard coordinator: each partition the
/// group assigns to this node gets a <see cref="ShardRunner"/>, started from the store's checkpoint
/// (not Kafka's committed offset) and stopped with a final checkpoint when the partition is revoked.
/// One consume thread routes records to the shards' bounded queues and pauses a partition whose queue
/// is full (back-pressure without blocking the other partitions).
/// </summary>
public sealed class StreamNode : IAsyncDisposable
{
    private readonly NodeOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly ShardOptions _shardOptions;
    private readonly SegmentCatalog _catalog;
    private readonly ICheckpointStore _store;
    private readonly IKafkaClientFactory _clients;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, ShardRunner> _runners = new();
    private readonly Dictionary<int, ConsumeResult<byte[], byte[]>> _held = new();
    private readonly ConcurrentQueue<TopicPartitionOffset> _toCommit = new();
    private IProducer<byte[], byte[]>? _producer;
    private IConsumer<byte[], byte[]>? _consumer;
    private volatile bool _joined;
    private volatile bool _consuming;
    private int _assignments;   // incremented when an assignment starts and when it has loaded its shards: odd while loading
    private volatile bool _hadFailures;

    private readonly Core.Experiments.Definitions.ExperimentCatalog? _experiments;

    /// <summary>The experiment catalog in force (file + admin definitions), read by every shard per event; set before <see cref="RunAsync"/>.</summary>
    public Func<Core.Experiments.Definitions.ExperimentCatalog>? CurrentExperiments { get; init; }
    private readonly Core.Experiments.Alerts.DataQualityOptions? _dataQuality;

    /// <param name="experiments">Experiments whose exposures and conversions are attributed (null: none).</param>
    public StreamNode(NodeOptions options, KafkaOptions kafka, ShardOptions shardOptions, SegmentCatalog catalog,
        ICheckpointStore store, IKafkaClientFactory clients, ILoggerFactory loggers, TimeProvider? time = null,
        Core.Experiments.Definitions.ExperimentCatalog? experiments = null, Core.Experiments.Alerts.DataQualityOptions? dataQuality = null)
    {
        _dataQuality = dataQuality;
        _experiments = experiments;
        _options = options.Validate();
        _kafka = kafka;
        _shardOptions = shardOptions.Validate();
        _catalog = catalog;
        _store = store;
        _clients = clients;
        _loggers = loggers;
        _log = loggers.CreateLogger<StreamNode>();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Shards currently owned by this node.</summary>
    public IReadOnlyCollection<ShardRunner> Shards => _runners.Values.ToList();

    /// <summary>True while the node is in the group and every owned shard is running, evaluated when read
    /// (a shard that stalls makes the node unready at once, not at the consume loop's next turn).</summary>
    public bool Ready
    {
        get
        {
            // Seqlock on assignments: odd while one loads its shards; a change while the runners were read means retry later.
            var before = Volatile.Read(ref _assignments);
            if ((before & 1) == 1 || !_consuming || !_joined) return false;
            var running = _runners.Values.All(r => r.State == ShardState.Running);
            return running && Volatile.Read(ref _assignments) == before;
        }
    }

    /// <summary>Counts of shards that could not make progress (failed and waiting for restart, or data loss).</summary>
    public int FailedShards => _runners.Values.Count(r => r.State == ShardState.Failed);

    /// <summary>True once any shard of this node failed, stopped without its final checkpoint, or the producer failed fatally (exit code 3).</summary>
    public bool HadFailures => _hadFailures || FailedShards > 0;

    /// <summary>Runs until <paramref name="ct"/> is cancelled, then checkpoints every shard and leaves the group.</summary>
    public Task RunAsync(CancellationToken ct) => Task.Factory.StartNew(() => ConsumeLoop(ct), TaskCreationOptions.LongRunning);

    private void ConsumeLoop(CancellationToken ct)
    {
        _store.InitializeAsync(ct).GetAwaiter().GetResult();
        using var fatal = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _producer = _clients.CreateProducer($"{_options.NodeId}-out", e =>
        {
            if (!e.IsFatal) return;
            // A fatal idempotent-producer error makes every later Produce fail: stop rather than restart shards forever.
            _hadFailures = true;
            _log.LogCritical("Fatal producer error {Code}: {Reason}; the node stops (restart it: state resumes from the checkpoints)", e.Code, e.Reason);
            fatal.Cancel();
        });
        ct = fatal.Token;
        _consumer = _clients.CreateConsumerBuilder(_options.NodeId, _options.GroupId, staticMember: true)
            .SetPartitionsAssignedHandler((_, parts) => OnAssigned(parts))
            .SetPartitionsRevokedHandler((_, parts) => OnRevoked(parts, checkpoint: true))
            .SetPartitionsLostHandler((_, parts) =>
            {
                _joined = false;   // out of the group until the next assignment: not ready
                OnRevoked(parts, checkpoint: false);
            })
            .SetErrorHandler((_, e) =>
            {
                _log.Log(e.IsFatal ? LogLevel.Critical : LogLevel.Warning, "Kafka client error {Code}: {Reason}", e.Code, e.Reason);
                if (!e.IsFatal) return;
                // E.g. FencedInstanceId: another process runs with this node id (static membership). The consumer is
                // unusable; stop (exit code 3) rather than poll it forever.
                _hadFailures = true;
                fatal.Cancel();
            })
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) _log.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message); })
            .Build();
        _consumer.Subscribe(_kafka.ClickstreamTopic);
        var relay = new OutboxRelay(_store, ShardRunner.Scope, _producer, () => _runners.Keys.ToArray(), _loggers.CreateLogger<OutboxRelay>());
        using var relayStop = new CancellationTokenSource();
        var relaying = relay.RunAsync(TimeSpan.FromMilliseconds(200), relayStop.Token);
        _log.LogInformation("Node {NodeId} joined group {Group} on {Topic}", _options.NodeId, _options.GroupId, _kafka.ClickstreamTopic);
        _consuming = true;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Deliver(Consume());
                RetryHeld();
                RestartFailedShards();
                CommitCheckpointedOffsets();
            }
        }
        finally
        {
            _consuming = false;
            _log.LogInformation("Node {NodeId} leaving group {Group}", _options.NodeId, _options.GroupId);
            var owned = _runners.Keys.ToArray();   // before Close(): its revoke handler empties _runners
            try { _consumer.Close(); } catch (Exception ex) { _log.LogWarning(ex, "Consumer close failed"); }
            OnRevoked(_runners.Keys.Select(p => new TopicPartitionOffset(_kafka.ClickstreamTopic, p, Offset.Unset)).ToList(), checkpoint: true);
            relayStop.Cancel();
            try { relaying.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
            // The final checkpoints just wrote outbox rows: publish them now rather than leave them to the next owner.
            try { relay.PublishOnceAsync(owned, CancellationToken.None).GetAwaiter().GetResult(); }
            catch (Exception ex) { _log.LogWarning(ex, "Final outbox publication failed; the next owner publishes the rows"); }
            _consumer.Dispose();
            _producer.Flush(_options.ShutdownTimeout);
            _producer.Dispose();
        }
    }

    private ConsumeResult<byte[], byte[]>? Consume()
    {
        try
        {
            return _consumer!.Consume(TimeSpan.FromMilliseconds(100));
        }
        catch (ConsumeException ex) when (ex.Error.Code is ErrorCode.OffsetOutOfRange or ErrorCode.Local_AutoOffsetReset)
        {
            OnOffsetOutOfRange(ex);
            return null;
        }
        catch (ConsumeException ex)
        {
            _log.LogWarning("Consume error {Code} at {Topic}/{Partition}@{Offset}: {Reason}", ex.Error.Code,
                ex.ConsumerRecord?.Topic, ex.ConsumerRecord?.Partition.Value, ex.ConsumerRecord?.Offset.Value, ex.Error.Reason);
            return null;
        }
    }

    private void Deliver(ConsumeResult<byte[], byte[]>? record)
    {
        if (record is null) return;
        var p = record.Partition.Value;
        if (!_runners.TryGetValue(p, out var runner)) return;   // revoked meanwhile: the next owner reads it
        if (runner.TryEnqueue(record)) return;
        _held[p] = record;
        _consumer!.Pause([new TopicPartition(_kafka.ClickstreamTopic, p)]);
    }

    private void RetryHeld()
    {
        if (_held.Count == 0) return;
        foreach (var (p, record) in _held.ToList())
        {
            if (!_runners.TryGetValue(p, out var runner)) { _held.Remove(p); continue; }
            if (!runner.TryEnqueue(record)) continue;
            _held.Remove(p);
            _consumer!.Resume([new TopicPartition(_kafka.ClickstreamTopic, p)]);
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        Interlocked.Increment(ref _assignments);
        var result = new List<TopicPartitionOffset>(partitions.Count);
        try
        {
            _joined = true;
            foreach (var tp in partitions)
            {
                var runner = StartShard(tp.Partition.Value);
                result.Add(new TopicPartitionOffset(tp, !runner.HasCheckpoint ? Offset.Beginning : new Offset(runner.NextOffset)));
            }
        }
        finally { Interlocked.Increment(ref _assignments); }
        _log.LogInformation("Node {NodeId} assigned partitions [{Partitions}]", _options.NodeId, string.Join(",", partitions.Select(p => p.Partition.Value)));
        return result;
    }

    /// <summary>
    /// Loads a partition's checkpoint and timers and starts its shard. If the store cannot be read, the
    /// partition still gets a runner, marked Failed, which <see cref="RestartFailedShards"/> retries.
    /// </summary>
    private ShardRunner StartShard(int partition)
    {
        var output = new KafkaShardOutput(_producer!, _kafka, new DeliveryTracker());
        var logger = _loggers.CreateLogger<ShardRunner>();
        ShardRunner runner;
        try
        {
            var checkpoint = _store.LoadCheckpointAsync(ShardRunner.Scope, partition).GetAwaiter().GetResult();
            var source = new StoreEntitySource(_store, ShardRunner.Scope, partition);
            var shard = new UserShard(partition, _shardOptions, _catalog, output, source, _experiments, CurrentExperiments);
            shard.RestoreShardState(checkpoint?.ShardState);
            shard.RestoreTimers(_store.LoadTimersAsync(ShardRunner.Scope, partition).GetAwaiter().GetResult());
            runner = new ShardRunner(_kafka.ClickstreamTopic, _kafka.ExperimentStatsTopic, partition, shard, _store, output, checkpoint, _options, logger, _time, dataQuality: _dataQuality);
            var owner = runner;
            source.ExpectedNextOffset = () => owner.StoredOffset;
            runner.Start();
            _log.LogInformation("Shard {Partition} started at offset {Offset} (watermark {Watermark})", partition, checkpoint?.NextOffset ?? 0, checkpoint?.WatermarkMs);
        }
        catch (Exception ex)
        {
            runner = new ShardRunner(_kafka.ClickstreamTopic, _kafka.ExperimentStatsTopic, partition, new UserShard(partition, _shardOptions, _catalog, output), _store, output, null, _options, logger, _time, dataQuality: _dataQuality);
            runner.Fail(ex);
            _hadFailures = true;
            _log.LogError(ex, "Shard {Partition} could not load its checkpoint; retrying", partition);
        }
        runner.Checkpointed += (r, offset) => _toCommit.Enqueue(new TopicPartitionOffset(_kafka.ClickstreamTopic, r.Partition, offset));
        _runners[partition] = runner;
        return runner;
    }

    /// <summary>Stops the shards of revoked (or lost) partitions: all asked at once, then each awaited and checkpointed.</summary>
    private void OnRevoked(List<TopicPartitionOffset> partitions, bool checkpoint)
    {
        var stopping = new List<ShardRunner>();
        foreach (var tpo in partitions)
        {
            if (!_runners.TryRemove(tpo.Partition.Value, out var runner)) continue;
            runner.RequestStop();
            stopping.Add(runner);
        }
        foreach (var runner in stopping)
        {
            var p = runner.Partition;
            _held.Remove(p);
            // A pause outlives the assignment in librdkafka: lift it, or the partition would stay silent if it comes back.
            try { _consumer?.Resume([new TopicPartition(_kafka.ClickstreamTopic, p)]); } catch (KafkaException) { }
            var clean = runner.Stop(checkpoint, _options.ShutdownTimeout);
            if (!clean && runner.Failure is not null) _hadFailures = true;
            if (clean) _log.LogInformation("Shard {Partition} stopped ({How}) at offset {Offset}", p, checkpoint ? "revoked, checkpointed" : "lost", runner.NextOffset);
            else _log.LogWarning("Shard {Partition} stopped without a final checkpoint ({Error}); the next owner replays from its last checkpoint", p, runner.Failure?.Message);
        }
    }

    /// <summary>A failed shard is rebuilt from its last checkpoint and the partition re-read from there (1 s back-off).</summary>
    private void RestartFailedShards()
    {
        foreach (var runner in _runners.Values.Where(r => r.State == ShardState.Failed && r.Failure is not DataLossException).ToList())
        {
            if (_time.GetElapsedTime(runner.LastProgressTicks) < TimeSpan.FromSeconds(1)) continue;
            _hadFailures = true;
            var p = runner.Partition;
            runner.Stop(checkpoint: false, TimeSpan.FromSeconds(5));
            _held.Remove(p);
            var fresh = StartShard(p);
            if (fresh.State == ShardState.Failed) continue;   // the store is still unreachable: try again later
            var tp = new TopicPartition(_kafka.ClickstreamTopic, p);
            try
            {
                _consumer!.Seek(new TopicPartitionOffset(tp, !fresh.HasCheckpoint ? Offset.Beginning : new Offset(fresh.NextOffset)));
                _consumer.Resume([tp]);
                _log.LogWarning("Shard {Partition} restarted from checkpoint {Offset} after: {Error}", p, fresh.NextOffset, runner.Failure?.Message);
            }
            catch (KafkaException ex)
            {
                fresh.Stop(checkpoint: false, TimeSpan.FromSeconds(5));
                fresh.Fail(ex);
                _log.LogWarning("Shard {Partition} could not seek to its checkpoint ({Reason}); retrying", p, ex.Error.Reason);
            }
        }
    }

    private void OnOffsetOutOfRange(ConsumeException ex)
    {
        var p = ex.ConsumerRecord?.Partition.Value ?? -1;
        var tp = p < 0 ? null : new TopicPartition(_kafka.ClickstreamTopic, p);
        _log.LogError("Offset {Offset} of {Topic}/{Partition} is no longer in the log (retention dropped it): {Reason}. Policy {Policy}",
            ex.ConsumerRecord?.Offset.Value, ex.ConsumerRecord?.Topic, p, ex.Error.Reason, _options.OnOffsetOutOfRange);
        if (tp is null || !_runners.TryGetValue(p, out var runner)) return;
        if (_options.OnOffsetOutOfRange == OffsetOutOfRangePolicy.Earliest)
        {
            DataLossEvents++;
            // The fetcher is in an error state for this partition: re-assign it at the log start.
            var low = _consumer!.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).Low;
            _log.LogCritical("Data loss on {Topic}/{Partition}: records {From}..{To} were dropped by retention before processing; continuing from {Low}",
                tp.Topic, p, runner.NextOffset, low.Value - 1, low.Value);
            _consumer.IncrementalUnassign([tp]);
            _consumer.IncrementalAssign([new TopicPartitionOffset(tp, low)]);
            return;
        }
        runner.MarkDataLoss(new DataLossException($"Partition {p}: stored offset {runner.NextOffset} fell off the log; refusing to skip data (Node:OnOffsetOutOfRange=Fail)."));
        _consumer!.Pause([tp]);
    }

    /// <summary>Offsets that fell off the log and were skipped under the Earliest policy.</summary>
    public long DataLossEvents { get; private set; }

    /// <summary>
    /// Hands checkpointed offsets to the client's background auto-commit (Kafka's committed offsets only feed lag
    /// monitoring). Not a synchronous Commit: that waits for the group coordinator, and while the coordinator's broker
    /// is down it blocked this loop and with it every partition of the node, also those on healthy brokers.
    /// </summary>
    private void CommitCheckpointedOffsets()
    {
        if (_toCommit.IsEmpty) return;
        var latest = new Dictionary<int, TopicPartitionOffset>();
        while (_toCommit.TryDequeue(out var tpo)) latest[tpo.Partition.Value] = tpo;
        foreach (var tpo in latest.Values.Where(t => _runners.ContainsKey(t.Partition.Value)))
        {
            try { _consumer!.StoreOffset(tpo); }
            catch (KafkaException ex) { _log.LogDebug("Kafka offset store (lag monitoring only) failed for partition {Partition}: {Reason}", tpo.Partition.Value, ex.Error.Reason); }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A shard's position fell off the Kafka log: continuing would silently skip data.</summary>
public sealed class DataLossException(string message) : Exception(message);
